"""Static parts of the fake site: the catalogue every Jira Cloud site has (status categories,
priorities, system fields, permissions ...). Site-specific objects are generated in ``site.py``."""

from __future__ import annotations

STATUS_CATEGORIES = [
    # (id:int, key, colorName, name)
    (1, "undefined", "medium-gray", "No Category"),
    (2, "new", "blue-gray", "To Do"),
    (4, "indeterminate", "yellow", "In Progress"),
    (3, "done", "green", "Done"),
]
STATUS_CATEGORY_BY_ID = {c[0]: c for c in STATUS_CATEGORIES}

# Global (company-managed) statuses: (id, name, category id, description)
GLOBAL_STATUSES = [
    ("10000", "To Do", 2, "Work that has not been started."),
    ("3", "In Progress", 4, "This issue is being actively worked on at the moment by the assignee."),
    ("10001", "In Review", 4, "Work waiting for review."),
    ("10002", "Done", 3, "Work that is complete."),
    ("10003", "Backlog", 2, "Not yet planned."),
    ("10004", "Blocked", 4, "Work that cannot progress."),
]
# Statuses a team-managed project gets (names; ids are allocated per project)
TEAM_STATUSES = [("To Do", 2), ("In Progress", 4), ("Done", 3)]

# Global issue types: (id, name, hierarchyLevel, subtask, description, avatarId)
GLOBAL_ISSUE_TYPES = [
    ("10000", "Epic", 1, False, "A big user story that needs to be broken down.", 10307),
    ("10001", "Story", 0, False, "Functionality or a feature expressed as a user goal.", 10315),
    ("10002", "Task", 0, False, "A small, distinct piece of work.", 10318),
    ("10003", "Bug", 0, False, "A problem or error.", 10303),
    ("10004", "Sub-task", -1, True, "A small piece of work that's part of a larger task.", 10316),
]
TEAM_ISSUE_TYPES = [
    ("Epic", 1, False, 10307),
    ("Story", 0, False, 10315),
    ("Task", 0, False, 10318),
    ("Bug", 0, False, 10303),
    ("Subtask", -1, True, 10316),
]

PRIORITIES = [
    # (id, name, color, icon)
    ("1", "Highest", "#d04437", "highest.svg"),
    ("2", "High", "#f15C75", "high.svg"),
    ("3", "Medium", "#f79232", "medium.svg"),
    ("4", "Low", "#707070", "low.svg"),
    ("5", "Lowest", "#999999", "lowest.svg"),
]

RESOLUTIONS = [
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
    ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    ("10003", "Cannot Reproduce", "All attempts at reproducing this issue failed."),
]

LINK_TYPES = [
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
]

# System fields: (id, name, schema or None, navigable, orderable, searchable, clauseNames)
SYSTEM_FIELDS = [
    ("statuscategorychangedate", "Status Category Changed", {"type": "datetime", "system": "statuscategorychangedate"}, True, False, True, ["statusCategoryChangedDate"]),
    ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, True, True, True, ["issuetype", "type"]),
    ("parent", "Parent", None, True, True, True, ["parent"]),
    ("timespent", "Time Spent", {"type": "number", "system": "timespent"}, True, False, False, ["timespent"]),
    ("project", "Project", {"type": "project", "system": "project"}, True, False, True, ["project"]),
    ("fixVersions", "Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}, True, True, True, ["fixVersion"]),
    ("aggregatetimespent", "Σ Time Spent", {"type": "number", "system": "aggregatetimespent"}, True, False, False, []),
    ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}, True, True, True, ["resolution"]),
    ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}, True, False, True, ["resolutiondate", "resolved"]),
    ("workratio", "Work Ratio", {"type": "number", "system": "workratio"}, True, False, True, ["workratio"]),
    ("lastViewed", "Last Viewed", {"type": "datetime", "system": "lastViewed"}, True, False, False, ["lastViewed"]),
    ("watches", "Watchers", {"type": "watches", "system": "watches"}, True, False, True, ["watchers"]),
    ("created", "Created", {"type": "datetime", "system": "created"}, True, False, True, ["created", "createdDate"]),
    ("priority", "Priority", {"type": "priority", "system": "priority"}, True, True, True, ["priority"]),
    ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, True, True, True, ["labels"]),
    ("timeestimate", "Remaining Estimate", {"type": "number", "system": "timeestimate"}, True, False, False, ["remainingEstimate", "timeestimate"]),
    ("aggregatetimeoriginalestimate", "Σ Original Estimate", {"type": "number", "system": "aggregatetimeoriginalestimate"}, True, False, False, []),
    ("versions", "Affects versions", {"type": "array", "items": "version", "system": "versions"}, True, True, True, ["affectedVersion"]),
    ("issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"}, True, True, False, []),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}, True, True, True, ["assignee"]),
    ("updated", "Updated", {"type": "datetime", "system": "updated"}, True, False, True, ["updated", "updatedDate"]),
    ("status", "Status", {"type": "status", "system": "status"}, True, False, True, ["status"]),
    ("components", "Components", {"type": "array", "items": "component", "system": "components"}, True, True, True, ["component"]),
    ("timeoriginalestimate", "Original estimate", {"type": "number", "system": "timeoriginalestimate"}, True, False, False, ["originalEstimate", "timeoriginalestimate"]),
    ("description", "Description", {"type": "string", "system": "description"}, True, True, True, ["description"]),
    ("timetracking", "Time tracking", {"type": "timetracking", "system": "timetracking"}, False, True, False, []),
    ("security", "Security Level", {"type": "securitylevel", "system": "security"}, True, True, True, ["level"]),
    ("attachment", "Attachment", {"type": "array", "items": "attachment", "system": "attachment"}, True, True, True, ["attachments"]),
    ("aggregatetimeestimate", "Σ Remaining Estimate", {"type": "number", "system": "aggregatetimeestimate"}, True, False, False, []),
    ("summary", "Summary", {"type": "string", "system": "summary"}, True, True, True, ["summary"]),
    ("creator", "Creator", {"type": "user", "system": "creator"}, True, False, True, ["creator"]),
    ("subtasks", "Sub-tasks", {"type": "array", "items": "issuelinks", "system": "subtasks"}, True, False, False, ["subtasks"]),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}, True, True, True, ["reporter"]),
    ("aggregateprogress", "Σ Progress", {"type": "progress", "system": "aggregateprogress"}, True, False, False, []),
    ("environment", "Environment", {"type": "string", "system": "environment"}, True, True, True, ["environment"]),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}, True, True, True, ["due", "duedate"]),
    ("progress", "Progress", {"type": "progress", "system": "progress"}, True, False, False, ["progress"]),
    ("comment", "Comment", {"type": "comments-page", "system": "comment"}, False, True, True, ["comment"]),
    ("votes", "Votes", {"type": "votes", "system": "votes"}, True, False, True, ["votes"]),
    ("worklog", "Log Work", {"type": "array", "items": "worklog", "system": "worklog"}, False, True, True, []),
    ("issuekey", "Key", None, True, False, True, ["id", "issue", "issuekey", "key"]),
    ("thumbnail", "Images", None, True, False, False, []),
]

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
# Custom fields: (id, name, schema, searcherKey, option-values per context or None)
# option contexts: list of (context name, global?, project key or None, [option values])
CUSTOM_FIELDS = [
    ("customfield_10000", "Development", {"type": "any", "custom": "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf", "customId": 10000}, None, None),
    ("customfield_10011", "Epic Name", {"type": "string", "custom": "com.pyxis.greenhopper.jira:gh-epic-label", "customId": 10011}, None, None),
    ("customfield_10014", "Epic Link", {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link", "customId": 10014}, None, None),
    ("customfield_10015", "Start date", {"type": "date", "custom": _CF + "datepicker", "customId": 10015}, _CF + "daterange", None),
    ("customfield_10016", "Story Points", {"type": "number", "custom": _CF + "float", "customId": 10016}, _CF + "exactnumber", None),
    ("customfield_10019", "Rank", {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank", "customId": 10019}, None, None),
    ("customfield_10020", "Sprint", {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}, None, None),
    ("customfield_10021", "Flagged", {"type": "array", "items": "option", "custom": _CF + "multicheckboxes", "customId": 10021}, _CF + "multiselectsearcher",
     [("Default Configuration Scheme for Flagged", True, None, ["Impediment"])]),
    ("customfield_10030", "Team", {"type": "option", "custom": _CF + "select", "customId": 10030}, _CF + "multiselectsearcher",
     [("Default Configuration Scheme for Team", True, None, ["Platform", "Mobile", "Web", "Data", "Operations", "Security"])]),
    ("customfield_10031", "Affected Areas", {"type": "array", "items": "option", "custom": _CF + "multiselect", "customId": 10031}, _CF + "multiselectsearcher",
     [("Default Configuration Scheme for Affected Areas", True, None, ["API", "UI", "Database", "Infrastructure", "Docs", "Billing"])]),
    ("customfield_10032", "Customer", {"type": "string", "custom": _CF + "textfield", "customId": 10032}, _CF + "textsearcher", None),
    ("customfield_10033", "Acceptance Criteria", {"type": "string", "custom": _CF + "textarea", "customId": 10033}, _CF + "textsearcher", None),
    ("customfield_10034", "Severity", {"type": "option", "custom": _CF + "select", "customId": 10034}, _CF + "multiselectsearcher",
     [("Default Configuration Scheme for Severity", True, None, ["S1 - Critical", "S2 - Major", "S3 - Minor", "S4 - Trivial"]),
      ("Security severity", False, "SEC", ["Critical", "High", "Medium", "Low"])]),
    # Jira Service Management's locked field: a request's approvals (servicedesk.py renders its value)
    ("customfield_10035", "Approvals", {"type": "sd-approvals", "custom": "com.atlassian.servicedesk.approvals-service:sd-approvals", "customId": 10035}, None, None),
]

PERMISSIONS = [
    ("ADD_COMMENTS", "Add Comments", "PROJECT", "Ability to comment on issues."),
    ("ADMINISTER", "Administer Jira", "GLOBAL", "Create and administer projects, issue types, fields, workflows, and schemes."),
    ("ADMINISTER_PROJECTS", "Administer Projects", "PROJECT", "Ability to administer a project in Jira."),
    ("ASSIGNABLE_USER", "Assignable User", "PROJECT", "Users with this permission may be assigned to issues."),
    ("ASSIGN_ISSUES", "Assign Issues", "PROJECT", "Ability to assign issues to other people."),
    ("BROWSE_PROJECTS", "Browse Projects", "PROJECT", "Ability to browse projects and the issues within them."),
    ("BULK_CHANGE", "Make bulk changes", "GLOBAL", "Modify collections of issues at once."),
    ("CLOSE_ISSUES", "Close Issues", "PROJECT", "Ability to close issues."),
    ("CREATE_ATTACHMENTS", "Create Attachments", "PROJECT", "Users with this permission may create attachments."),
    ("CREATE_ISSUES", "Create Issues", "PROJECT", "Ability to create issues."),
    ("CREATE_SHARED_OBJECTS", "Share dashboards and filters", "GLOBAL", "Share dashboards and filters with other users."),
    ("DELETE_ALL_ATTACHMENTS", "Delete All Attachments", "PROJECT", "Users with this permission may delete all attachments."),
    ("DELETE_ALL_COMMENTS", "Delete All Comments", "PROJECT", "Ability to delete all comments made on issues."),
    ("DELETE_ALL_WORKLOGS", "Delete All Worklogs", "PROJECT", "Ability to delete all worklogs made on issues."),
    ("DELETE_ISSUES", "Delete Issues", "PROJECT", "Ability to delete issues."),
    ("EDIT_ALL_COMMENTS", "Edit All Comments", "PROJECT", "Ability to edit all comments made on issues."),
    ("EDIT_ALL_WORKLOGS", "Edit All Worklogs", "PROJECT", "Ability to edit all worklogs made on issues."),
    ("EDIT_ISSUES", "Edit Issues", "PROJECT", "Ability to edit issues."),
    ("LINK_ISSUES", "Link Issues", "PROJECT", "Ability to link issues together."),
    ("MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "Manage group filter subscriptions", "GLOBAL", "Create and delete group filter subscriptions."),
    ("MANAGE_SPRINTS_PERMISSION", "Manage sprints", "PROJECT", "Ability to manage sprints."),
    ("MANAGE_WATCHERS", "Manage Watchers", "PROJECT", "Ability to manage the watchers of an issue."),
    ("MODIFY_REPORTER", "Modify Reporter", "PROJECT", "Ability to modify the reporter when creating or editing an issue."),
    ("MOVE_ISSUES", "Move Issues", "PROJECT", "Ability to move issues between projects."),
    ("RESOLVE_ISSUES", "Resolve Issues", "PROJECT", "Ability to resolve and reopen issues."),
    ("SCHEDULE_ISSUES", "Schedule Issues", "PROJECT", "Ability to set or edit an issue's due date."),
    ("SET_ISSUE_SECURITY", "Set Issue Security", "PROJECT", "Ability to set the level of security on an issue."),
    ("SYSTEM_ADMIN", "Administer Jira", "GLOBAL", "Ability to perform most administration functions."),
    ("TRANSITION_ISSUES", "Transition Issues", "PROJECT", "Ability to transition issues."),
    ("USER_PICKER", "Browse users and groups", "GLOBAL", "Browse and select users and groups."),
    ("VIEW_DEV_TOOLS", "View Development Tools", "PROJECT", "Users with this permission can view development tools."),
    ("VIEW_READONLY_WORKFLOW", "View Read-Only Workflow", "PROJECT", "Users with this permission may view a read-only version of a workflow."),
    ("VIEW_VOTERS_AND_WATCHERS", "View Voters and Watchers", "PROJECT", "Ability to view the voters and watchers of an issue."),
    ("WORK_ON_ISSUES", "Work On Issues", "PROJECT", "Ability to log work done against an issue."),
]

PROJECT_ROLES = [
    (10002, "Administrators", "A project role that represents administrators in a project"),
    (10003, "Developers", "A project role that represents developers in a project"),
    (10004, "Viewers", "A project role that represents viewers in a project"),
    (10005, "atlassian-addons-project-access", "A project role that represents Connect add-ons declaring a scope that requires more than read issue permissions"),
    (10006, "Member", "Team-managed project members"),
]

PROJECT_TYPES = [
    ("software", "Software", "jira.project.type.software.description", "#FFFFFF"),
    ("service_desk", "Service management", "jira.project.type.servicedesk.description.jsm", "#FFFFFF"),
    ("business", "Business", "jira.project.type.business.description", "#FFFFFF"),
    ("product_discovery", "Product Discovery", "jira.project.type.polaris.description", "#FFFFFF"),
]

PROJECT_CATEGORIES = [
    ("10000", "Engineering", "Product engineering teams"),
    ("10001", "Business", "Go-to-market teams"),
    ("10002", "Internal", "Internal and operational work"),
]

APPLICATION_ROLES = [
    # key, name, groups, defaultGroups, seats
    ("jira-software", "Jira", ["jira-software-users", "jira-admins", "site-admins"], ["jira-software-users"], 100),
    ("jira-servicedesk", "Jira Service Management", ["jira-servicemanagement-users", "site-admins"], ["jira-servicemanagement-users"], 10),
]

TIME_TRACKING_PROVIDERS = [
    ("JIRA", "JIRA provided time tracking", "/secure/admin/TimeTrackingAdmin!default.jspa"),
    ("Tempo", "Tempo Timesheets", "/plugins/servlet/ac/is.origo.jira.tempo-plugin/tempo-app"),
]

APPLICATION_PROPERTIES = [
    ("jira.title", "Jira", "The name of this Jira site", "string"),
    ("jira.baseurl", None, "Base URL", "string"),
    ("jira.option.watching", "true", "Allow users to watch issues", "bool"),
    ("jira.option.voting", "true", "Allow users to vote on issues", "bool"),
    ("jira.option.allowunassigned", "true", "Allow unassigned issues", "bool"),
    ("jira.lf.date.dmy", "dd/MMM/yy", "Day/Month/Year format", "string"),
]

NAVIGATOR_COLUMNS = [
    ("Issue Type", "issuetype"), ("Key", "issuekey"), ("Summary", "summary"), ("Assignee", "assignee"),
    ("Reporter", "reporter"), ("Priority", "priority"), ("Status", "status"), ("Resolution", "resolution"),
    ("Created", "created"), ("Updated", "updated"), ("Due date", "duedate"),
]

AUDIT_CATEGORIES = [
    ("user management", "User created", "USER"),
    ("group management", "User added to group", "GROUP"),
    ("projects", "Project created", "PROJECT"),
    ("workflows", "Workflow updated", "WORKFLOW"),
    ("fields", "Custom field created", "CUSTOM_FIELD"),
    ("permissions", "Permission scheme updated", "SCHEME"),
    ("system", "Application property changed", "APPLICATION_PROPERTY"),
]

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger",
    "Radia", "Tim", "Hedy", "John", "Katherine", "Donald", "Sophie", "Guido", "Anita", "Bjarne",
    "Lynn", "James", "Shafi", "Niklaus", "Joan", "Vint", "Karen", "Leslie", "Mary", "Robin",
]
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
    "Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "McCarthy", "Johnson", "Knuth", "Wilson", "van Rossum",
    "Borg", "Stroustrup", "Conway", "Gosling", "Goldwasser", "Wirth", "Clarke", "Cerf", "Spärck Jones",
    "Lamport", "Keller", "Milner",
]
TIME_ZONES = [
    "America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata",
    "Australia/Sydney", "America/Sao_Paulo", "Asia/Tokyo", "UTC",
]
WORDS = (
    "login page crash export report sync timeout cache billing invoice search filter dashboard mobile "
    "android ios api token webhook retry queue worker latency memory leak upgrade dependency migration "
    "schema index permission role admin onboarding email notification template locale timezone daylight "
    "saving audit log metrics alert pipeline deploy rollback staging production flaky test coverage "
    "refactor cleanup docs readme accessibility contrast keyboard focus modal tooltip upload attachment "
    "preview thumbnail pagination cursor backfill import csv json parser encoding unicode emoji"
).split()
LABELS = [
    "backend", "frontend", "tech-debt", "customer-reported", "regression", "security", "performance",
    "needs-design", "good-first-issue", "ux", "infra", "data", "release-blocker", "q1-okr", "q2-okr",
    "q3-okr", "q4-okr", "hotfix", "spike", "documentation", "compliance", "onboarding", "mobile", "api",
]
MIME_TYPES = [
    ("png", "image/png"), ("jpg", "image/jpeg"), ("pdf", "application/pdf"), ("txt", "text/plain"),
    ("log", "text/plain"), ("csv", "text/csv"), ("zip", "application/zip"), ("json", "application/json"),
]

# The permissions the connector's `my_permissions` stream asks about (manifest.yaml): what its streams need.
MY_PERMISSIONS_ASKED = ("BROWSE_PROJECTS", "ADMINISTER", "SYSTEM_ADMIN", "ADMINISTER_PROJECTS", "VIEW_VOTERS_AND_WATCHERS",
                        "USER_PICKER", "VIEW_DEV_TOOLS", "VIEW_READONLY_WORKFLOW")
