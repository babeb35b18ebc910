#!/usr/bin/env python3
"""Create Fanloop's DynamoDB table on an endpoint (moto, DynamoDB Local) exactly as
infra/template.yaml defines it, so tests and production share one table definition."""

import argparse
import sys

import boto3
import yaml


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


CfnLoader.add_multi_constructor("!", _any_tag)


def table_properties(template_path):
    with open(template_path, encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)
    tables = [
        r["Properties"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::DynamoDB::Table"
    ]
    if len(tables) != 1:
        sys.exit(f"expected exactly one AWS::DynamoDB::Table in {template_path}, found {len(tables)}")
    return tables[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--template", default="infra/template.yaml")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()

    props = table_properties(args.template)
    client = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    kwargs = {
        "TableName": args.table,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("LocalSecondaryIndexes"):
        kwargs["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=args.table)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=args.table,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    print(f"created table {args.table} with {len(kwargs.get('GlobalSecondaryIndexes', []))} GSIs")


if __name__ == "__main__":
    main()
