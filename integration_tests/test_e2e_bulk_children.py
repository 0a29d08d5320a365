"""End-to-end: two per-parent streams read in bulk. `filter_sharing` comes from the paged filter list itself
(`filter/search?expand=sharePermissions`), not one `filter/{id}/permission` call per filter; on Jira Cloud
`screen_tabs` comes from "Get bulk screen tabs" (`screens/tabs`, 100 screens a call) instead of one
`screens/{id}/tabs` call per screen, while Data Center (no bulk endpoint: a 404 there) keeps the per-screen call.
Records equal the fake's ground truth; request counts are the list pages, not one per parent. The Cloud site is grown
past a page of filters and past 100 screens so the paging and the grouping both show."""

from __future__ import annotations

import math

import pytest
import requests

from integration_tests.conftest import (
    assert_ids_equal_ground_truth,
    assert_valid_against_schemas,
    configured_catalog,
    run_connector,
)
from integration_tests.fake_jira import FakeJira

pytestmark = pytest.mark.e2e

SCREENS, FILTERS = 250, 120  # 5 pages of screens, 3 bulk calls of screen ids; 3 pages of filters (50 a page)
FILTER_PAGE, SCREEN_PAGE, BULK_IDS, BULK_PAGE = 50, 50, 100, 100


def _grow(site, screens: int, filters: int) -> None:
    """More screens (1 to 3 tabs each) and filters (0 to 2 share permissions each) than Jira lists on one page."""
    tab_id = max(t[0] for s in site.screens for t in s["tabs"]) + 1
    screen_id = max(s["id"] for s in site.screens) + 1
    names = ["Field Tab", "Details", "Time tracking"]
    while len(site.screens) < screens:
        tabs = [(tab_id + k, names[k], ["summary"]) for k in range(1 + len(site.screens) % 3)]
        tab_id += len(tabs)
        site.screens.append({"id": screen_id, "name": f"Grown screen {screen_id}", "description": "", "tabs": tabs})
        screen_id += 1
    share_id = max([s["id"] for f in site.filters for s in f["shares"]] or [10000]) + 1
    filter_id = max(int(f["id"]) for f in site.filters) + 1
    owner = site.filters[0]["owner"]
    while len(site.filters) < filters:
        shares = [{"id": share_id + k, "type": ("global", "loggedin")[k]} for k in range(len(site.filters) % 3)]
        share_id += len(shares)
        f = {"id": str(filter_id), "name": f"Grown filter {filter_id}", "owner": owner, "jql": "project = PLAT",
             "description": "", "shares": shares, "favouritedCount": 0}
        site.filters.append(f)
        site.filter_by_id[f["id"]] = f
        filter_id += 1


@pytest.fixture(scope="module")
def cloud_fake():
    fake = FakeJira(issues=60, seed=21)
    fake.start()
    _grow(fake.site, SCREENS, FILTERS)
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def dc_fake():
    fake = FakeJira(issues=60, seed=21, deployment="datacenter")
    fake.start()
    yield fake
    fake.stop()


def _read(fake, streams):
    discovered = run_connector("discover", config=fake.config(), ca_path=fake.ca_path).catalog()
    assert discovered, "discover returned no catalog"
    fake.reset_counts()
    result = run_connector("read", config=fake.config(), catalog=configured_catalog(discovered, streams),
                           ca_path=fake.ca_path)
    assert result.returncode == 0 and not result.errors(), (result.errors(), result.stderr[-2000:])
    return discovered, result, fake.request_counts()


def _bulk_pages(site) -> int:
    """Get bulk screen tabs pages for the screens in list order: 100 screens a call, each call paged 100 tabs a page."""
    pages = 0
    for i in range(0, len(site.screens), BULK_IDS):
        tabs = sum(len(s["tabs"]) for s in site.screens[i:i + BULK_IDS])
        pages += max(1, math.ceil(tabs / BULK_PAGE))
    return pages


def test_cloud_reads_both_streams_in_bulk_with_the_records_of_the_per_parent_calls(cloud_fake):
    site = cloud_fake.site
    assert len(site.screens) == SCREENS and len(site.filters) == FILTERS
    discovered, result, counts = _read(cloud_fake, ["filter_sharing", "screen_tabs"])
    for stream in ("filter_sharing", "screen_tabs"):
        assert_ids_equal_ground_truth(stream, result.records(stream), cloud_fake)
    assert_valid_against_schemas(discovered, result.records_by_stream())
    # the same records as the per-parent endpoints give: tabs as {screenId, id, name}, shares with their filterId
    names = {(s["id"], t[0]): t[1] for s in site.screens for t in s["tabs"]}
    tabs = result.records("screen_tabs")
    assert all(set(r) == {"screenId", "id", "name"} and r["name"] == names[(r["screenId"], r["id"])] for r in tabs), tabs[:3]
    shares = {(f["id"], s["id"]): s["type"] for f in site.filters for s in f["shares"]}
    assert all(r["type"] == shares[(r["filterId"], r["id"])] for r in result.records("filter_sharing"))

    # requests: the lists' pages, never one per filter or per screen
    assert counts.get("GET /rest/api/3/filter/search") == math.ceil(FILTERS / FILTER_PAGE), counts
    assert counts.get("GET /rest/api/3/screens") == math.ceil(SCREENS / SCREEN_PAGE), counts
    assert counts.get("GET /rest/api/3/screens/tabs") == _bulk_pages(site), counts
    assert _bulk_pages(site) < math.ceil(SCREENS / BULK_IDS) * 2 + 1  # 3 calls of ids, a second page where > 100 tabs
    assert "GET /rest/api/3/filter/{id}/permission" not in counts, counts
    assert "GET /rest/api/3/screens/{screenId}/tabs" not in counts, counts


def test_cloud_screen_tab_fields_still_read_under_the_bulk_tabs(fake_jira):
    discovered, result, counts = _read(fake_jira, ["screen_tabs", "screen_tab_fields"])
    for stream in ("screen_tabs", "screen_tab_fields"):
        assert_ids_equal_ground_truth(stream, result.records(stream), fake_jira)
    assert counts.get("GET /rest/api/3/screens/{screenId}/tabs/{tabId}/fields") == len(fake_jira.ground_truth("screen_tabs")), counts
    # screen_tabs is read once, as a stream and as screen_tab_fields' parent (transport.ResponseMemo: the CDK would
    # read a parent again for each child), and so are the screens it is read for
    assert counts.get("GET /rest/api/3/screens/tabs") == _bulk_pages(fake_jira.site), counts
    assert counts.get("GET /rest/api/3/screens") == 1, counts
    assert "GET /rest/api/3/screens/{screenId}/tabs" not in counts, counts


def test_data_center_keeps_one_call_per_screen(dc_fake):
    discovered, result, counts = _read(dc_fake, ["screen_tabs", "screen_tab_fields"])
    for stream in ("screen_tabs", "screen_tab_fields"):
        assert_ids_equal_ground_truth(stream, result.records(stream), dc_fake)
    assert_valid_against_schemas(discovered, result.records_by_stream())
    # one call per screen, once: screen_tabs as a stream and as screen_tab_fields' parent share the answers
    assert counts.get("GET /rest/api/2/screens/{screenId}/tabs") == len(dc_fake.site.screens), counts
    assert not [k for k in counts if k.endswith("/screens/tabs")], counts
    assert "filter_sharing" not in {s["name"] for s in discovered["streams"]}  # Data Center has no filter/search


# ------------------------------------------------------------------------------------ the fake's bulk endpoint
def _get(fake, path, params, auth=None, headers=None):
    return requests.get(fake.base_url + path, params=params, auth=auth, headers=headers, verify=fake.ca_path, timeout=30)


def test_fake_bulk_screen_tabs_enforces_jiras_limits(cloud_fake):
    auth = (cloud_fake.email, cloud_fake.api_token)
    ids = [s["id"] for s in cloud_fake.site.screens]
    ok = _get(cloud_fake, "/rest/api/3/screens/tabs", {"screenId": ids[:100], "maxResult": 100}, auth)
    assert ok.status_code == 200, ok.text[:300]
    body = ok.json()
    assert set(body) == {"isLast", "maxResults", "startAt", "total", "values"}
    assert set(body["values"][0]) == {"screenId", "tabId", "tabName"}
    assert body["total"] == sum(len(s["tabs"]) for s in cloud_fake.site.screens[:100]) and len(body["values"]) == 100
    rest = _get(cloud_fake, "/rest/api/3/screens/tabs", {"screenId": ids[:100], "maxResult": 100, "startAt": 100}, auth).json()
    assert rest["isLast"] and len(rest["values"]) == body["total"] - 100
    for params, words in (
        ({"screenId": ids[:101]}, "exceed 100"),
        ({"screenId": ids[:2], "maxResult": 101}, "maxResult"),
        ({"screenId": ids[:2], "maxResult": 0}, "maxResult"),
        ({"screenId": ["abc"]}, "screenId"),
        ({"maxResult": 10}, "empty"),
        ({"screenId": ids[:2], "startAt": -1}, "startAt"),
    ):
        bad = _get(cloud_fake, "/rest/api/3/screens/tabs", params, auth)
        assert bad.status_code == 400, (params, bad.status_code)
        assert words in " ".join(bad.json()["errorMessages"]) and bad.json()["errors"] == {}, bad.text


def test_fake_data_center_has_no_bulk_screen_tabs(dc_fake):
    headers = {"Authorization": f"Bearer {dc_fake.pat}"}
    missing = _get(dc_fake, "/rest/api/2/screens/tabs", {"screenId": [1]}, headers=headers)
    assert missing.status_code == 404, missing.status_code
    assert _get(dc_fake, "/rest/api/2/screens/1/tabs", {}, headers=headers).status_code == 200
