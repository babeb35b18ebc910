# SAM's build (`BuildMethod: makefile` in infra/template.yaml) runs `make build-<LogicalId>`
# here with ARTIFACTS_DIR set. Each function is built by scripts/package with the Lambda
# profile (lambda-release: fat LTO, one codegen unit, arm64) and its bootstrap copied there.
define lambda
	scripts/package $(1)
	cp target/lambda/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
endef

.PHONY: build-ProfilesFunction build-PointsFunction build-CampaignsFunction \
	build-CampaignsApiFunction build-SurveysApiFunction build-SurveysQueueFunction \
	build-TriggersFunction build-BroadcastsFunction build-FeedbackFunction \
	build-ConsoleFunction

build-ProfilesFunction:
	$(call lambda,profiles)
build-PointsFunction:
	$(call lambda,points)
build-CampaignsFunction:
	$(call lambda,campaigns)
build-CampaignsApiFunction:
	$(call lambda,campaigns-api)
build-SurveysApiFunction:
	$(call lambda,surveys-api)
build-SurveysQueueFunction:
	$(call lambda,surveys-queue)
build-TriggersFunction:
	$(call lambda,triggers)
build-BroadcastsFunction:
	$(call lambda,broadcasts)
build-FeedbackFunction:
	$(call lambda,feedback)
build-ConsoleFunction:
	$(call lambda,console)
