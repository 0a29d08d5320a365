"""A small real JQL parser and evaluator (the subset a connector uses).

Grammar: ``or := and (OR and)*``, ``and := not (AND not)*``, ``not := NOT not | '(' or ')' | clause``,
``clause := field op operand``; ``ORDER BY f [ASC|DESC], ...``. Fields: project, issuetype/type,
id, key/issuekey/issue, status, statusCategory, updated/updatedDate, created/createdDate,
resolved/resolutiondate, sprint, assignee, reporter, creator, labels, priority, resolution,
parent, fixVersion, component, summary/text (``~``), watcher, voter.

Date semantics follow Jira: strings are read in the user's zone, a bare integer is epoch ms,
seconds are rejected, and comparisons happen at minute precision (both the issue's timestamp and
the operand are truncated to the minute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .timefmt import JqlDateError, minute_floor, parse_jql_date, start_of_day

UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


class JqlError(ValueError):
    """A 400 from Jira; ``str(exc)`` is the ``errorMessages`` entry."""


# --------------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Tok:
    kind: str  # word | str | op | lp | rp | comma | end
    text: str
    pos: int  # 1-based character
    quoted: bool = False


_OPS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
_WORD_END = set(" \t\r\n=!<>~(),\"'")


def tokenize(q: str) -> list[Tok]:
    out = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            j = i + 1
            buf = []
            while j < n and q[j] != c:
                if q[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(q[j])
                j += 1
            if j >= n:
                raise JqlError(f"Error in the JQL Query: The quoted string '{q[i + 1:]}' has not been completed. (line 1, character {i + 1})")
            out.append(Tok("str", "".join(buf), i + 1, True))
            i = j + 1
            continue
        if c == "(":
            out.append(Tok("lp", c, i + 1)); i += 1; continue
        if c == ")":
            out.append(Tok("rp", c, i + 1)); i += 1; continue
        if c == ",":
            out.append(Tok("comma", c, i + 1)); i += 1; continue
        matched = False
        for op in _OPS:
            if q.startswith(op, i):
                out.append(Tok("op", op, i + 1))
                i += len(op)
                matched = True
                break
        if matched:
            continue
        if c == "!":
            raise JqlError(f"Error in the JQL Query: The character '!' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0021' instead. (line 1, character {i + 1})")
        j = i
        while j < n and q[j] not in _WORD_END:
            j += 1
        out.append(Tok("word", q[i:j], i + 1))
        i = j
    out.append(Tok("end", "", n + 1))
    return out


# --------------------------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------------------------
@dataclass
class Clause:
    field: str
    op: str  # = != > >= < <= ~ !~ in "not in" is "is not"
    values: list  # list of (text, quoted) or ("fn", name, args)
    pos: int


@dataclass
class BoolNode:
    kind: str  # and | or | not
    children: list


@dataclass
class Parsed:
    where: Any
    order: list  # (field, desc)


_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc", "was", "changed"}


class _Parser:
    def __init__(self, q: str) -> None:
        self.q = q
        self.toks = tokenize(q)
        self.i = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_kw(self, t: Tok, *kws: str) -> bool:
        return t.kind == "word" and not t.quoted and t.text.lower() in kws

    def err_got(self, expecting: str, t: Tok) -> JqlError:
        if t.kind == "end":
            return JqlError(f"Error in the JQL Query: Expecting {expecting} but reached the end of the query.")
        return JqlError(f"Error in the JQL Query: Expecting {expecting} but got '{t.text}'. (line 1, character {t.pos})")

    def parse(self) -> Parsed:
        where = None
        t = self.peek()
        if t.kind != "end" and not (self.is_kw(t, "order") and self.is_kw(self.toks[self.i + 1], "by")):
            where = self.p_or()
        order = []
        t = self.peek()
        if self.is_kw(t, "order"):
            self.take()
            if not self.is_kw(self.peek(), "by"):
                raise self.err_got("'BY'", self.peek())
            self.take()
            while True:
                f = self.take()
                if f.kind not in ("word", "str") or (not f.quoted and f.text.lower() in _KEYWORDS):
                    raise self.err_got("a field name", f)
                desc = None
                if self.is_kw(self.peek(), "asc", "desc"):
                    desc = self.take().text.lower() == "desc"
                order.append((f.text, desc, f.pos))
                if self.peek().kind == "comma":
                    self.take()
                    continue
                break
        t = self.peek()
        if t.kind != "end":
            if where is not None and not order:
                raise self.err_got("either 'OR' or 'AND'", t)
            raise self.err_got("either ',' or the end of the query", t)
        return Parsed(where, order)

    def p_or(self):
        kids = [self.p_and()]
        while self.is_kw(self.peek(), "or") or (self.peek().kind == "word" and self.peek().text == "||"):
            self.take()
            kids.append(self.p_and())
        return kids[0] if len(kids) == 1 else BoolNode("or", kids)

    def p_and(self):
        kids = [self.p_not()]
        while self.is_kw(self.peek(), "and") or (self.peek().kind == "word" and self.peek().text == "&&"):
            self.take()
            kids.append(self.p_not())
        return kids[0] if len(kids) == 1 else BoolNode("and", kids)

    def p_not(self):
        t = self.peek()
        if self.is_kw(t, "not"):
            self.take()
            return BoolNode("not", [self.p_not()])
        if t.kind == "lp":
            self.take()
            node = self.p_or()
            if self.peek().kind != "rp":
                raise self.err_got("')'", self.peek())
            self.take()
            return node
        return self.p_clause()

    def p_clause(self) -> Clause:
        f = self.take()
        if f.kind not in ("word", "str") or (not f.quoted and f.text.lower() in _KEYWORDS):
            raise self.err_got("a field name", f)
        t = self.take()
        if t.kind == "op":
            op = t.text
        elif self.is_kw(t, "in"):
            op = "in"
        elif self.is_kw(t, "not"):
            t2 = self.take()
            if not self.is_kw(t2, "in"):
                raise self.err_got("'IN'", t2)
            op = "not in"
        elif self.is_kw(t, "is"):
            if self.is_kw(self.peek(), "not"):
                self.take()
                op = "is not"
            else:
                op = "is"
        elif self.is_kw(t, "was", "changed"):
            raise JqlError(f"History searches ('{t.text.upper()}') are not supported by this fake. (line 1, character {t.pos})")
        else:
            raise self.err_got("operator", t)
        if op in ("in", "not in"):
            values = self.p_list()
        elif op in ("is", "is not"):
            v = self.take()
            if not self.is_kw(v, "empty", "null"):
                raise self.err_got("'EMPTY'", v)
            values = []
        else:
            values = [self.p_value()]
        return Clause(f.text, op, values, f.pos)

    def p_list(self) -> list:
        t = self.peek()
        if t.kind != "lp":
            return [self.p_value()]  # `in currentUser()` style function or single value
        self.take()
        vals = [self.p_value()]
        while self.peek().kind == "comma":
            self.take()
            vals.append(self.p_value())
        if self.peek().kind != "rp":
            raise self.err_got("')'", self.peek())
        self.take()
        return vals

    def p_value(self):
        t = self.take()
        if t.kind == "str":
            return (t.text, True, t.pos)
        if t.kind == "word":
            if t.text.lower() in ("and", "or", "order", "not", "in", "is"):
                raise JqlError(
                    f"Error in the JQL Query: Expecting either a value, list or function but got '{t.text}'. "
                    f"You must surround '{t.text}' in quotation marks to use it as a value. (line 1, character {t.pos})")
            if self.peek().kind == "lp":  # function call
                self.take()
                args = []
                while self.peek().kind != "rp":
                    a = self.take()
                    if a.kind == "end":
                        raise self.err_got("')'", a)
                    if a.kind in ("word", "str"):
                        args.append(a.text)
                self.take()
                return ("fn", t.text, args, t.pos)
            if t.text.lower() in ("empty", "null"):
                return ("empty", None, t.pos)
            return (t.text, False, t.pos)
        raise self.err_got("either a value, list or function", t)


def parse(q: str) -> Parsed:
    return _Parser(q or "").parse()


# --------------------------------------------------------------------------------------------
# compilation
# --------------------------------------------------------------------------------------------
@dataclass
class Query:
    jql: str
    pred: Callable[[Any], bool] | None
    sort_key: Callable[[Any], tuple]
    uses_now: bool


_FIELD_ALIASES = {
    "type": "issuetype", "issuetype": "issuetype", "project": "project", "id": "id",
    "key": "key", "issuekey": "key", "issue": "key", "status": "status",
    "statuscategory": "statuscategory", "updated": "updated", "updateddate": "updated",
    "created": "created", "createddate": "created", "resolved": "resolved",
    "resolutiondate": "resolved", "sprint": "sprint", "assignee": "assignee",
    "reporter": "reporter", "creator": "creator", "labels": "labels", "label": "labels",
    "priority": "priority", "resolution": "resolution", "parent": "parent",
    "fixversion": "fixversion", "component": "component", "summary": "summary", "text": "text",
    "cf[10020]": "sprint", "rank": "rank", "watcher": "watcher", "voter": "voter",
}
_SORTABLE = {"updated", "created", "id", "key", "priority", "resolved", "rank", "project", "status", "issuetype"}


class Compiler:
    """Compiles a parsed query against a :class:`site.Site`."""

    def __init__(self, site, tz, now_ms: int) -> None:
        self.site = site
        self.tz = tz
        self.now = now_ms
        self.uses_now = False

    # -- helpers ------------------------------------------------------------------------------
    def _vals(self, c: Clause) -> list:
        return [v for v in c.values if v[0] not in ("fn", "empty")]

    def _bad_op(self, c: Clause, fname: str | None = None) -> JqlError:
        return JqlError(f"The operator '{c.op}' is not supported by the '{fname or c.field}' field.")

    def _fn(self, c: Clause):
        return [v for v in c.values if v[0] == "fn"]

    def _set_pred(self, c: Clause, getter, resolve) -> Callable:
        """Equality/IN style predicate on a scalar attribute; ``resolve`` maps an operand to a set."""
        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda it: (getter(it) is None) == empty
        if c.op not in ("=", "!=", "in", "not in"):
            raise self._bad_op(c)
        allowed = set()
        has_empty = False
        for v in c.values:
            if v[0] == "empty":
                has_empty = True
                continue
            allowed |= resolve(v)
        if c.op in ("!=", "not in"):
            # Jira: `field != X` does not match issues where the field is empty
            def neg(it):
                g = getter(it)
                return g is not None and g not in allowed
            return neg

        def pos(it):
            g = getter(it)
            return g in allowed or (has_empty and g is None)
        return pos

    def _multi_pred(self, c: Clause, getter, resolve) -> Callable:
        """Like _set_pred but the attribute is a collection."""
        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda it: (len(getter(it)) == 0) == empty
        if c.op not in ("=", "!=", "in", "not in"):
            raise self._bad_op(c)
        allowed = set()
        for v in c.values:
            if v[0] != "empty":
                allowed |= resolve(v)
        if c.op in ("!=", "not in"):
            return lambda it: len(getter(it)) > 0 and not (set(getter(it)) & allowed)
        return lambda it: bool(set(getter(it)) & allowed)

    # -- entry ----------------------------------------------------------------------------------
    def compile(self, jql: str, require_bounded: bool = True) -> Query:
        parsed = parse(jql)
        if parsed.where is None and require_bounded:
            raise JqlError(UNBOUNDED)
        pred = self.node(parsed.where) if parsed.where is not None else None
        sort_key = self.order(parsed.order)
        return Query(jql, pred, sort_key, self.uses_now)

    def node(self, n) -> Callable:
        if isinstance(n, BoolNode):
            kids = [self.node(k) for k in n.children]
            if n.kind == "and":
                return lambda it: all(k(it) for k in kids)
            if n.kind == "or":
                return lambda it: any(k(it) for k in kids)
            k0 = kids[0]
            return lambda it: not k0(it)
        return self.clause(n)

    def clause(self, c: Clause) -> Callable:
        fname = c.field.lower()
        if fname.startswith("cf[") or fname.startswith("customfield_"):
            num = re.sub(r"\D", "", fname)
            fname = {"10020": "sprint"}.get(num, fname)
        f = _FIELD_ALIASES.get(fname)
        if f is None:
            raise JqlError(f"Field '{c.field}' does not exist or you do not have permission to view it.")
        return getattr(self, "f_" + f)(c)

    # -- fields ---------------------------------------------------------------------------------
    def f_project(self, c: Clause):
        site = self.site

        def resolve(v):
            if v[0] == "fn":
                raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
            p = site.find_project(v[0]) or next(
                (x for x in site.projects if x.name.lower() == str(v[0]).lower()), None)
            if p is None:
                raise JqlError(f"The value '{v[0]}' does not exist for the field 'project'.")
            return {p.idx}
        return self._set_pred(c, lambda it: it.project.idx, resolve)

    def f_issuetype(self, c: Clause):
        site = self.site

        def resolve(v):
            if v[0] == "fn":
                name = v[1].lower()
                if name == "standardissuetypes":
                    return {t.id for t in site.issue_types if not t.subtask}
                if name == "subtaskissuetypes":
                    return {t.id for t in site.issue_types if t.subtask}
                raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
            s = v[0]
            ids = {t.id for t in site.issue_types if t.id == s or t.name.lower() == s.lower()}
            if not ids:
                raise JqlError(f"The value '{s}' does not exist for the field '{c.field}'.")
            return ids
        return self._set_pred(c, lambda it: it.itype.id, resolve)

    def f_id(self, c: Clause):
        if c.op in ("=", "!=", "in", "not in", "is", "is not"):
            def resolve(v):
                if v[0] == "fn":
                    raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
                s = str(v[0])
                if s.isdigit():
                    return {int(s)}
                it = self.site.find_issue(s)
                if it is None:
                    raise JqlError(f"An issue with key '{s}' does not exist for field '{c.field}'.")
                return {it.id}
            return self._set_pred(c, lambda it: it.id, resolve)
        vals = self._vals(c)
        if len(vals) != 1:
            raise self._bad_op(c)
        s = vals[0][0]
        if s.isdigit():
            x = int(s)
        else:
            it = self.site.find_issue(s)
            if it is None:
                raise JqlError(f"An issue with key '{s}' does not exist for field '{c.field}'.")
            x = it.id
        return _cmp(c.op, lambda it: it.id, x)

    def f_key(self, c: Clause):
        if c.op in ("=", "!=", "in", "not in", "is", "is not"):
            site = self.site

            def resolve(v):
                if v[0] == "fn":
                    raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
                s = str(v[0])
                if s.isdigit():
                    return {int(s)}
                it = site.find_issue(s)
                if it is None:
                    if site.find_project(s.rsplit("-", 1)[0]) is None or "-" not in s:
                        raise JqlError(f"The issue key '{s}' for field '{c.field}' is invalid.")
                    raise JqlError(f"An issue with key '{s}' does not exist for field '{c.field}'.")
                return {it.id}
            return self._set_pred(c, lambda it: it.id, resolve)
        # key comparison: within the project, by number
        vals = self._vals(c)
        if len(vals) != 1 or "-" not in vals[0][0]:
            raise self._bad_op(c)
        pkey, num = vals[0][0].upper().rsplit("-", 1)
        p = self.site.find_project(pkey)
        if p is None or not num.isdigit():
            raise JqlError(f"The issue key '{vals[0][0]}' for field '{c.field}' is invalid.")
        n = int(num)
        inner = _cmp(c.op, lambda it: int(it.key.rsplit("-", 1)[1]), n)
        return lambda it: it.project is p and inner(it)

    def f_status(self, c: Clause):
        site = self.site

        def resolve(v):
            if v[0] == "fn":
                raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
            s = v[0]
            ids = {st.id for st in site.statuses if st.id == s or st.name.lower() == s.lower()}
            if not ids:
                raise JqlError(f"The value '{s}' does not exist for the field 'status'.")
            return ids
        return self._set_pred(c, lambda it: it.status.id, resolve)

    def f_statuscategory(self, c: Clause):
        from .catalog import STATUS_CATEGORIES

        def resolve(v):
            s = str(v[0]).lower()
            ids = {cat[0] for cat in STATUS_CATEGORIES if str(cat[0]) == s or cat[1] == s or cat[3].lower() == s}
            if not ids:
                raise JqlError(f"The value '{v[0]}' does not exist for the field 'statusCategory'.")
            return ids
        return self._set_pred(c, lambda it: it.status.cat, resolve)

    def _date(self, c: Clause, getter):
        if c.op in ("is", "is not"):
            empty = c.op == "is"
            return lambda it: (getter(it) is None) == empty
        if c.op not in ("=", "!=", ">", ">=", "<", "<="):
            raise self._bad_op(c)
        v = c.values[0]
        if v[0] == "fn":
            name = v[1].lower()
            self.uses_now = True
            if name == "now":
                x = self.now
            elif name == "startofday":
                x = start_of_day(self.now, self.tz)
            else:
                raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
        elif v[0] == "empty":
            raise self._bad_op(c)
        else:
            text = v[0]
            if re.match(r"^[+-]?\s*\d+\s*[wdhm]", text.strip(), re.I):
                self.uses_now = True
            try:
                x = parse_jql_date(text, self.tz, self.now)
            except JqlDateError:
                raise JqlError(
                    f"Date value '{text}' for field '{c.field}' is invalid. Valid formats include: "
                    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                    "format e.g. '-5d', '4w 2d'.") from None
        xm = minute_floor(x)
        op = c.op
        if op == "=":
            return lambda it: (t := getter(it)) is not None and minute_floor(t) == xm
        if op == "!=":
            return lambda it: (t := getter(it)) is not None and minute_floor(t) != xm
        if op == ">":
            return lambda it: (t := getter(it)) is not None and minute_floor(t) > xm
        if op == ">=":
            return lambda it: (t := getter(it)) is not None and minute_floor(t) >= xm
        if op == "<":
            return lambda it: (t := getter(it)) is not None and minute_floor(t) < xm
        return lambda it: (t := getter(it)) is not None and minute_floor(t) <= xm

    def f_updated(self, c: Clause):
        return self._date(c, lambda it: it.updated)

    def f_created(self, c: Clause):
        return self._date(c, lambda it: it.created)

    def f_resolved(self, c: Clause):
        return self._date(c, lambda it: it.resolved)

    def f_sprint(self, c: Clause):
        site = self.site

        def resolve(v):
            if v[0] == "fn":
                name = v[1].lower()
                state = {"opensprints": ("active", "future"), "closedsprints": ("closed",),
                         "futuresprints": ("future",)}.get(name)
                if state is None:
                    raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
                return {s.id for s in site.sprints if s.state in state}
            s = str(v[0])
            if s.isdigit() and int(s) in site.sprint_by_id:
                return {int(s)}
            ids = {sp.id for sp in site.sprints if sp.name.lower() == s.lower()}
            if not ids:
                raise JqlError(f"Sprint with name or id '{s}' does not exist or you do not have permission to view it.")
            return ids
        return self._multi_pred(c, lambda it: it.sprints, resolve)

    def _user(self, c: Clause, getter):
        return self._set_pred(c, lambda it: (None if getter(it) < 0 else getter(it)), self._user_resolver(c))

    def _user_resolver(self, c: Clause):
        site = self.site

        def resolve(v):
            if v[0] == "fn":
                if v[1].lower() == "currentuser":
                    return {0}
                raise JqlError(f"Unable to find JQL function '{v[1]}()'.")
            if site.dc:  # Data Center: a username or a user key (there are no account ids)
                u = site.user_by_dc.get(str(v[0]).lower())
            else:
                u = site.user_by_account.get(v[0])
            if u is None:
                raise JqlError(f"The value '{v[0]}' does not exist for the field '{c.field}'.")
            return {u.idx}
        return resolve

    def f_watcher(self, c):
        """The issues a user watches (Jira's `watcher` field: =, !=, in, not in, is, is not)."""
        return self._multi_pred(c, lambda it: it.watchers, self._user_resolver(c))

    def f_voter(self, c):
        """The issues a user voted for (Jira's `voter` field)."""
        return self._multi_pred(c, lambda it: it.voters, self._user_resolver(c))

    def f_assignee(self, c):
        return self._user(c, lambda it: it.assignee)

    def f_reporter(self, c):
        return self._user(c, lambda it: it.reporter)

    def f_creator(self, c):
        return self._user(c, lambda it: it.creator)

    def f_labels(self, c):
        return self._multi_pred(c, lambda it: it.labels, lambda v: {v[0]})

    def f_priority(self, c):
        from .catalog import PRIORITIES

        def resolve(v):
            ids = {k for k, p in enumerate(PRIORITIES) if p[0] == v[0] or p[1].lower() == str(v[0]).lower()}
            if not ids:
                raise JqlError(f"The value '{v[0]}' does not exist for the field 'priority'.")
            return ids
        return self._set_pred(c, lambda it: it.priority, resolve)

    def f_resolution(self, c):
        from .catalog import RESOLUTIONS

        def resolve(v):
            s = str(v[0]).lower()
            if s == "unresolved":
                return {None}
            ids = {k for k, r in enumerate(RESOLUTIONS) if r[0] == v[0] or r[1].lower() == s}
            if not ids:
                raise JqlError(f"The value '{v[0]}' does not exist for the field 'resolution'.")
            return ids
        getter = lambda it: None if it.resolution < 0 else it.resolution  # noqa: E731
        if c.op in ("=", "in") and any(str(v[0]).lower() == "unresolved" for v in c.values):
            allowed = set()
            for v in c.values:
                allowed |= resolve(v)
            return lambda it: getter(it) in allowed
        return self._set_pred(c, getter, resolve)

    def f_parent(self, c):
        site = self.site

        def resolve(v):
            it = site.find_issue(v[0])
            if it is None:
                raise JqlError(f"An issue with key '{v[0]}' does not exist for field 'parent'.")
            return {it.id}
        return self._set_pred(c, lambda it: it.parent.id if it.parent is not None else None, resolve)

    def f_fixversion(self, c):
        site = self.site

        def resolve(v):
            ids = {ver.id for p in site.projects for ver in p.versions if ver.id == v[0] or ver.name == v[0]}
            if not ids:
                raise JqlError(f"The value '{v[0]}' does not exist for the field 'fixVersion'.")
            return ids
        return self._multi_pred(c, lambda it: [v.id for v in it.fix_versions], resolve)

    def f_component(self, c):
        site = self.site

        def resolve(v):
            ids = {co.id for p in site.projects for co in p.components if co.id == v[0] or co.name.lower() == str(v[0]).lower()}
            if not ids:
                raise JqlError(f"The value '{v[0]}' does not exist for the field 'component'.")
            return ids
        return self._multi_pred(c, lambda it: it.components, resolve)

    def f_summary(self, c):
        if c.op not in ("~", "!~"):
            raise self._bad_op(c)
        needle = str(c.values[0][0]).lower().strip("*")
        neg = c.op == "!~"
        return lambda it: (needle in it.summary.lower()) != neg

    f_text = f_summary

    def f_rank(self, c):
        raise self._bad_op(c)

    # -- ordering -------------------------------------------------------------------------------
    def order(self, order: list) -> Callable[[Any], tuple]:
        if not order:
            return lambda it: (-it.id,)
        parts = []
        for name, desc, pos in order:
            fname = _FIELD_ALIASES.get(name.lower(), name.lower())
            if fname not in _SORTABLE:
                if fname in _FIELD_ALIASES.values():
                    raise JqlError(f"Field '{name}' does not support sorting.")
                raise JqlError(f"Not able to sort using field '{name}'.")
            parts.append((fname, bool(desc)))
        site = self.site
        key_rank = {k: i for i, k in enumerate(sorted(site.project_by_key))}

        def getter(fname):
            if fname == "updated":
                return lambda it: it.updated
            if fname == "created":
                return lambda it: it.created
            if fname in ("id", "rank"):
                return lambda it: it.id
            if fname == "key":
                return lambda it: key_rank[it.project.key] * 10**9 + int(it.key.rsplit("-", 1)[1])
            if fname == "priority":
                return lambda it: it.priority
            if fname == "resolved":
                return lambda it: it.resolved or 0
            if fname == "project":
                return lambda it: key_rank[it.project.key]
            if fname == "status":
                return lambda it: int(it.status.id)
            return lambda it: int(it.itype.id)

        getters = [(getter(f), d) for f, d in parts]
        last_desc = parts[-1][1]

        def key(it):
            out = []
            for g, d in getters:
                v = g(it)
                out.append(-v if d else v)
            out.append(-it.id if last_desc else it.id)
            return tuple(out)
        return key


def _cmp(op: str, getter, x):
    if op == ">":
        return lambda it: getter(it) > x
    if op == ">=":
        return lambda it: getter(it) >= x
    if op == "<":
        return lambda it: getter(it) < x
    if op == "<=":
        return lambda it: getter(it) <= x
    raise JqlError(f"The operator '{op}' is not supported.")
