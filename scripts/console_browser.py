"""The staff console in headless Chromium (run by scripts/console-browser).

An agent sets a password, logs in, finds a customer by e-mail and by steam identity, changes
the phone number, logs a phone call, adjusts points with a reason and sees the call and the
adjustment in the timeline; a detractor's answer opens a case that the agent assigns and
resolves; a viewer sees no form and is refused the POST; an admin sees the audit entries and
the dashboard's NPS for a seeded week; the UI switches to zh-CN. Every page is checked with axe-core (no serious or
critical violation) and photographed. Any failed check exits non-zero.
"""

import argparse
import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "correct horse battery staple"
CUSTOMER = "li-wei"
EMAIL = "li.wei@example.com"
STEAM = "steam:76561198000000001"

args = argparse.ArgumentParser()
for a in ("--base", "--key", "--axe", "--shots", "--agent-link", "--viewer-link", "--admin-link"):
    args.add_argument(a, required=True)
opts = args.parse_args()
axe_source = open(opts.axe, encoding="utf-8").read()
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def api(method, path, body):
    req = urllib.request.Request(
        opts.base + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + opts.key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as res:
        return res.status, json.loads(res.read() or b"null")


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--window-size=1280,1400", "--lang=en-US"):
    options.add_argument(flag)
os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download anything
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.implicitly_wait(2)


def page(name):
    """Screenshot and axe-core check of the current page."""
    driver.save_screenshot(os.path.join(opts.shots, name + ".png"))
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))));"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    check(not bad, f"axe-core on {name}: no serious or critical violation {bad or ''}")


def fill(field_id, value):
    el = driver.find_element(By.ID, field_id)
    el.clear()
    el.send_keys(value)


def replaced(old):
    """Whether the page `old` belongs to is gone. Chromium answers a node of a page being
    replaced with a stale-element error or, mid-navigation, with an inspector error ("Node with
    given id does not belong to the document"): both mean the old page is gone."""
    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True
    return gone


def click_and_wait(el):
    """Clicks and waits for the next page to replace this one, loaded."""
    old = driver.find_element(By.TAG_NAME, "html")
    el.click()
    WebDriverWait(driver, 10).until(replaced(old))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def submit(form_action):
    click_and_wait(driver.find_element(By.CSS_SELECTOR, f"form[action$='{form_action}'] button[type=submit]"))


def set_password(link, shot=None):
    driver.delete_all_cookies()
    driver.get(link)
    if shot:
        page(shot)
    fill("password", PASSWORD)
    submit("/console/set-password")
    check("Your password is set" in driver.page_source, "the link sets the password")


def login(email, shot=None):
    driver.delete_all_cookies()
    driver.get(opts.base + "/console/login")
    if shot:
        page(shot)
    fill("email", email)
    fill("password", PASSWORD)
    submit("/console/login")
    check(driver.current_url.endswith("/console/"), f"{email} logs in")


def search(q):
    fill("q", q)
    submit("/console/")
    links = driver.find_elements(By.CSS_SELECTOR, f"a[href='/console/customers/{CUSTOMER}']")
    check(len(links) == 1, f"the search finds the customer by {q}")
    check(urllib.parse.quote(q) not in driver.current_url and q not in driver.current_url,
          f"the URL does not hold {q}")
    return links


try:
    check(api("PUT", f"/v1/customers/{CUSTOMER}", {
        "email": EMAIL, "display_name": "Li Wei 李伟", "phone": "+8613800138000",
        "identities": [{"platform": "steam", "external_id": STEAM.split(":")[1]}],
        "consent": {"email_marketing": True, "source": "signup"},
    })[0] == 201, "the customer is created through the API")

    set_password(opts.agent_link, shot="set-password")
    login("agent@studio.example", shot="login")
    page("search")
    search(STEAM)
    links = search(EMAIL)
    page("search-results")
    click_and_wait(links[0])
    check("Li Wei 李伟" in driver.page_source, "the customer page opens")

    fill("new-phone", "+86 139 0013 9000")
    submit("/phone")
    check(driver.find_element(By.ID, "phone").text == "+8613900139000", "the phone is changed")

    driver.find_element(By.CSS_SELECTOR, "#c-channel option[value=phone]").click()
    fill("c-summary", "Called about a missing gift")
    fill("c-outcome", "gift resent")
    submit("/contacts")
    fill("adj-points", "250")
    fill("adj-reason", "missing gift")
    submit("/points")
    timeline = driver.find_element(By.CSS_SELECTOR, ".timeline").text
    check("Called about a missing gift" in timeline, "the call is in the timeline")
    check("250 adjustment missing gift" in timeline, "the adjustment is in the timeline")
    check(driver.find_element(By.ID, "balance").text == "250", "the balance shows the adjustment")
    page("customer")

    # Last week's answers (Monday to Friday, UTC noon): 10, 9, 9, 8 and Li Wei's 3 — an NPS
    # of (3 - 1) / 5 = 40; the detractor's answer opens a case.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    week = [monday + datetime.timedelta(days=i) for i in range(7)]
    followup = None
    for i, score in enumerate([10, 9, 9, 8, 3]):
        body = {"response_id": f"week-{i}", "nps": score, "submitted_at": f"{week[i]}T12:00:00Z"}
        if score == 3:
            body.update(customer_id=CUSTOMER, comment="The gift shop keeps failing")
        status, answer = api("POST", "/v1/surveys/nps-week/responses", body)
        check(status == 201, f"answer {i} is recorded")
        followup = answer.get("followup_id") or followup
    check(followup is not None, "the detractor's answer opens a follow-up")
    driver.get(opts.base + "/console/cases")
    check("NPS 3 · nps-week" in driver.page_source, "the case is in the agent's queue")
    page("cases")
    click_and_wait(driver.find_element(By.CSS_SELECTOR, f"a[href='/console/cases/{followup}']"))
    check("The gift shop keeps failing" in driver.page_source, "the case shows the comment")
    for option in driver.find_elements(By.CSS_SELECTOR, "#assignee option"):
        if option.text == "agent@studio.example":
            option.click()
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form:has(input[name=op][value=assign]) button"))
    check(driver.find_element(By.ID, "case-assignee").text == "agent@studio.example", "the agent takes the case")
    fill("resolution", "Refunded the failed purchase")
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form:has(input[name=op][value=resolve]) button"))
    check(driver.find_element(By.ID, "case-status").text == "resolved", "the case is resolved")
    check(driver.find_element(By.ID, "case-resolution").text == "Refunded the failed purchase", "with its resolution")
    page("case")
    driver.get(opts.base + "/console/cases")
    check("NPS 3 · nps-week" not in driver.page_source, "the resolved case left the queue")

    # A viewer reads but has no form, and the POST is refused.
    set_password(opts.viewer_link)
    login("viewer@studio.example")
    driver.get(opts.base + f"/console/customers/{CUSTOMER}")
    check(not driver.find_elements(By.CSS_SELECTOR, "form[action$='/phone']"), "a viewer sees no edit form")
    check(not driver.find_elements(By.CSS_SELECTOR, "form[action$='/points']"), "a viewer sees no points form")
    page("customer-viewer")
    csrf = driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    session = driver.get_cookie("fl_session")["value"]
    req = urllib.request.Request(
        opts.base + f"/console/customers/{CUSTOMER}/phone", method="POST",
        data=urllib.parse.urlencode({"csrf": csrf, "request_id": "viewer-try", "phone": "+8613700137000"}).encode(),
        headers={"Cookie": "fl_session=" + session, "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        code = urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        code = e.code
    check(code == 403, f"a viewer's POST is refused ({code})")
    driver.get(opts.base + f"/console/customers/{CUSTOMER}")
    check(driver.find_element(By.ID, "phone").text == "+8613900139000", "the viewer changed nothing")

    # The admin sees what the agent did.
    set_password(opts.admin_link)
    login("admin@studio.example")
    driver.get(opts.base + "/console/audit")
    log = driver.page_source
    for action in ("profile_edited", "contact_logged", "points_adjusted"):
        check(action in log, f"the audit log has {action}")
    check("+8613800138000" in log and "+8613900139000" in log, "the audit log has the phone before and after")
    page("audit")
    driver.get(opts.base + "/console/staff")
    check("viewer@studio.example" in driver.page_source, "the admin sees the staff list")
    fill("s-email", "new.agent@studio.example")
    submit("/console/staff")
    check("/console/set-password?token=" in driver.find_element(By.ID, "link").text, "an added member's link is shown once")
    page("staff")
    driver.get(opts.base + f"/console/dashboard?survey=nps-week&from={week[0]}&to={week[6]}")
    check(driver.find_element(By.ID, "nps-value").text == "40", "the dashboard shows last week's NPS of 40")
    check(len(driver.find_elements(By.CSS_SELECTOR, "figure.chart svg")) >= 3, "the charts are drawn")
    rows = driver.find_element(By.ID, "table-nps-trend").get_attribute("textContent")
    check(f"{week[4]}-100" in rows.replace(" ", ""), "the detractor's day is at -100")
    page("dashboard")
    driver.get(opts.base + "/console/campaigns")
    check("/console/dashboard?campaign=birthday" in driver.page_source, "the campaigns link to their funnels")
    page("campaigns")
    driver.get(opts.base + "/console/settings")
    fill("patch", '{"cases": {"sla_hours": {"high": 2}}}')
    submit("/console/settings")
    check('"high": 2' in driver.find_element(By.ID, "settings").text, "the admin changes the high-priority SLA")
    page("settings")
    driver.get(opts.base + "/console/keys")
    fill("k-name", "support tool")
    driver.find_element(By.CSS_SELECTOR, "input[name=scope][value=read]").click()
    submit("/console/keys")
    check(driver.find_element(By.ID, "secret").text.startswith("flk_"), "a new key's secret is shown once")
    page("keys")

    # The UI switches to Chinese.
    driver.get(opts.base + "/console/")
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/console/locale'] button"))
    check("查找客户" in driver.page_source, "the UI is in zh-CN")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "the page says zh-CN")
    page("search-zh")
    driver.get(opts.base + f"/console/customers/{CUSTOMER}")
    page("customer-zh")
    driver.get(opts.base + f"/console/dashboard?survey=nps-week&from={week[0]}&to={week[6]}")
    check("每日 NPS" in driver.page_source, "the dashboard is in zh-CN")
    page("dashboard-zh")
finally:
    driver.quit()

if failures:
    print(f"{len(failures)} console check(s) failed", file=sys.stderr)
    sys.exit(1)
print("every console check passed")
