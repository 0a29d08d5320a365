"""A realistic, deterministic fake Jira Cloud (or Jira Data Center) site over HTTPS on 127.0.0.1.

Ground truth for end-to-end tests, the README demo and the benchmark against Airbyte's official
connector. Responses follow Atlassian's REST shapes (``/rest/api/3``, ``/rest/agile/1.0``).

    from integration_tests.fake_jira import FakeJira
    with FakeJira(issues=2000, seed=42, timezone="America/Los_Angeles") as fake:
        cfg = fake.config()                 # connector config; trust fake.ca_path (REQUESTS_CA_BUNDLE)
        fake.ground_truth("issues")         # {("10000",), ("10001",), ...}
        fake.request_counts()               # {"POST /rest/api/3/search/jql": 21, ...}

CLI: ``python -m integration_tests.fake_jira --issues 2000 --seed 42 --port 0`` prints one JSON line
(base_url, domain, port, ca_path, email, api_token, ...) and serves until SIGTERM/SIGINT; a separate
process drives it through ``/_fake/<method>`` (JSON body = keyword arguments, no auth; answer
``{"result": ...}``), e.g. ``POST /_fake/update_issues {"n_or_ids": 5}``,
``GET /_fake/ground_truth?stream=issues&projects=PLAT,MOB``. ``client.FakeJiraClient`` wraps that.

**Jira Data Center mode** — ``FakeJira(..., deployment="datacenter")`` (CLI: ``--datacenter [--context-path /jira]``)
serves the same site as a self-hosted Jira Data Center 9.12 would, strictly:

* only under the context path (``context_path``, default ``/jira``; ``fake.base_url`` and ``fake.domain`` include it;
  anything outside is the servlet container's HTML 404); ``/rest/api/2`` and ``/rest/agile/1.0`` there, no
  ``/rest/api/3`` (404), no Cloud gateway/OAuth. ``/_fake/...`` answers at the root and under the context path.
* auth: ``Authorization: Bearer <pat>`` (personal access token) or Basic ``dc_username:dc_password``; anything else,
  Cloud's e-mail + API token included, is a 401 (``serverInfo`` also answers anonymously).
  ``fake.config(auth="pat"|"basic")`` gives the connector config.
* ``serverInfo``: version 9.12.2, ``deploymentType`` "DataCenter".
* rendering: rich text (description, environment, comment bodies, worklog comments, text custom fields) is a
  wiki-markup string, not ADF; users have no ``accountId`` — ``{"self", "key", "name", "emailAddress",
  "displayName", "active", "timeZone", "avatarUrls"}``, ``key`` ``JIRAUSER1xxxx`` or, for a few old accounts, the old
  username (the connector's own account: key ``jdoe``, name ``dc_username``, renamed since); changelog items name
  users by key; Cloud's app/customer accounts are ordinary users; groups have no id (``{"name", "self"}``); no
  team-managed projects or boards (``simplified``/``style`` absent, ``simple`` boards show as scrum/kanban), only
  sub-tasks carry ``parent``. Datetimes and JQL are as on Cloud, except that JQL names users by username or key.
* issue search: ``GET``/``POST /rest/api/2/search`` with ``jql`` (unbounded allowed), ``startAt``, ``maxResults``
  (default 50, capped by ``search_max_results`` = jira.search.views.default.max, 1,000; the answer's ``maxResults``
  is what was used), ``fields`` (default ``*navigable``), ``expand``, ``validateQuery``; answer ``{"expand",
  "startAt", "maxResults", "total", "issues"}``. ``startAt + maxResults > result_window`` (10,000) is a 400
  ("Search limit exceeded ..."), so deep results need narrowed JQL. ``expand=changelog`` (search and ``GET issue``)
  embeds the whole history, oldest first. ``search/jql``, ``search/approximate-count``, ``changelog/bulkfetch`` and
  the paged ``issue/{id}/changelog`` do not exist. Embedded comment/worklog pages are truncated as on Cloud.
* Data Center forms: ``user/search?username=.&includeInactive=true`` (bare list, maxResults ≤ 1,000),
  ``user?key=|username=``, ``groups/picker`` (``{"header", "total", "groups"}``, default maxResults 20),
  ``group/member?groupname=`` (paged, inactive members only with ``includeInactiveUsers=true``), ``project`` (list),
  ``project/{id}/components`` (list), ``priority``/``resolution`` (lists), ``priorityschemes`` (``schemes``),
  ``workflow`` (list by name). 404 there (Cloud only): project/search, users/search, group/bulk, field contexts and
  options, label, issuetypescheme, issuetypescreenscheme, fieldconfiguration, workflowscheme, workflows/search,
  screenscheme, filter/search, filter/my, auditing/record, project/{id}/email, project/{id}/component,
  priority/search, resolution/search, priorityscheme, statuses/search, field/search, dashboard/search, dev-status,
  screens/tabs (bulk screen tabs).
* ground truth: ``STREAM_PKS_DC`` — the Cloud streams minus ``CLOUD_ONLY_STREAMS`` (and Cloud's two unoffered
  aliases field_configurations / notification_schemes), users/myself/users_groups_detailed by ``key``,
  issue_watchers/issue_votes by (issueId, key), groups by ``name``, group_members by (groupName, key), workflows by
  ``name``. ``fake.streams()``/``stream_names()``, ``ground_truth_pk`` and ``ground_truth`` follow the deployment (a
  stream the site does not offer is a KeyError naming it). Request counts use the ``/rest/api/2`` templates.

**Jira Service Management** (``/rest/servicedeskapi``, Cloud and Data Center alike): two service desks on OPS and SEC
whose live issues are the customer requests, with request types, queues, customers, organizations, SLAs (breached
and not, running and completed), public and internal comments, participants, approvals and status history, all
derived from the issues' current state (an issue update changes its request). ``FakeJira(jsm=False)``: a site
without JSM (404); ``jsm_agent=False``: an account that is no agent (403 on queues/customers, its own requests only).
See ``servicedesk.py``; ground truth: ``JSM_STREAM_PKS`` (in ``STREAM_PKS``/``STREAM_PKS_DC``).

**Rate limits** — ``fake.set_rate_limit(rate=20, burst=10, per_endpoint=False)`` (control: ``POST
/_fake/set_rate_limit``) puts Jira Cloud's burst limit in front of the API as a token bucket for the site (or each
endpoint): answers carry ``X-RateLimit-Limit``/``X-RateLimit-Remaining`` and ``X-RateLimit-NearLimit: true`` below 20 %
left; a request beyond it is a 429 (``Retry-After`` in whole seconds, ``X-RateLimit-Reset``, ``RateLimit-Reason:
jira-burst-based``), counted as ``fault_counts()["rate_limited"]``. ``request_times()`` / ``max_requests_in_window(s)``
tell the arrival rate. Off by default (``clear_rate_limit``).

Site: 7 projects (PLAT, MOB, OPS, SEC, MKT company-managed; WEB, DATA team-managed), 60 users (e-mail
present / absent / null, app and customer accounts, inactive users), 10 groups, 8 boards (scrum,
kanban, team-managed ``simple`` with and without sprints; a cross-project scrum board that shares
sprints with two others), two-week sprints over ~1.5 years, issues over 2 years up to now (DST
transitions inside), sub-tasks, epics, custom fields, changelogs (some > 100 entries), comments and
worklogs (~1 % > 20, so the embedded page is truncated), attachments, watchers, votes, remote links,
properties, transitions and the configuration objects (schemes, screens, filters, dashboards...).

Ids in ground truth — as the records carry them (tuple order = ``ground_truth_pk(stream)``):

* numeric **strings**: issues/issue_ids, issue_changelogs, issue_comments, issue_worklogs,
  issue_attachments (``id``); ``issueId`` in issue_watchers / issue_votes / issue_properties /
  issue_transitions (transition ``id`` is a string too, e.g. "21"); sprint_issues / board_issues
  ``issueId``; projects, project_versions, project_components, project_categories; project_avatars
  (``projectId`` and avatar ``id``); project_email ``projectId``; issue_types, issue_priorities,
  issue_resolutions, workflow_statuses, issue_link_types, issue_type_schemes,
  issue_type_screen_schemes, filters, dashboards, priority_schemes; filter_sharing ``filterId``.
* **ints**: boards, sprints, board_configuration (board id); sprint_issues ``sprintId``;
  board_issues ``boardId``; epics (``boardId``, epic ``id`` — the agile API types the epic id as an
  int); issue_remote_links; project_roles; workflow_status_categories; issue_security_schemes;
  issue_field_configurations; workflow_schemes; permission_schemes (the default one is id 0);
  issue_notification_schemes; screens; screen_tabs (screenId, id); screen_tab_fields (screenId,
  tabId, and the field ``id`` is a string); filter_sharing share ``id``; audit_records.
* other strings: users / group_members ``accountId``; groups ``groupId`` (UUID); workflows (UUID,
  new ``/workflows/search`` API); issue_fields / custom field contexts / options (``customfield_…``,
  context and option ids are numeric strings); labels; project_types, application_roles,
  time_tracking, permissions (``key``); server_info (``baseUrl``); myself (``accountId``).

``ground_truth`` drops deleted issues and their children (``FakeJira.depends_on_deleted`` lists the
streams affected) and ignores index lag / ``hide_from_search`` (they are transient). ``projects=``
filters the issue-derived streams only (``FakeJira.project_filtered``). ``group_members`` includes
inactive members: ``/group/member`` leaves them out unless ``includeInactiveUsers=true`` (as Jira).

Semantics worth knowing (all mirror Jira Cloud): datetimes in ``/rest/api/3`` are rendered in the
``/myself`` zone as ``2025-01-01T14:17:25.435-0800``, sprint dates in UTC ``…Z``; JQL date strings are
read in that zone, epoch ms are zone-free, comparisons are at minute precision (both sides truncated
to the minute), seconds in a date string are a 400; search pages are keyset-paged (``nextPageToken``
encodes the last sort key) and re-evaluated per page; ``/worklog/updated`` returns ``updatedTime >=
since`` and leaves out the last 60 s; the worklog feed carries ``worklogId`` as an int while worklog
objects carry ``id``/``issueId`` as strings.
"""

from .core import FakeJira
from .site import CLOUD_ONLY_STREAMS, DEPENDS_ON_DELETED, PROJECT_FILTERED, STREAM_PKS, STREAM_PKS_DC

__all__ = ["FakeJira", "STREAM_PKS", "STREAM_PKS_DC", "CLOUD_ONLY_STREAMS", "DEPENDS_ON_DELETED", "PROJECT_FILTERED"]
