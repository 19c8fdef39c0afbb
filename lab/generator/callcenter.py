"""Call center exports: CTI calls (JSON Lines) and CRM service tickets (UTF-8 CSV with BOM).

Day 1 holds 180 days of history, later days their own calls. Ticket files hold the tickets
received that day plus those whose status changed that day, as of the end of the day (so a
ticket shows up again when it is assigned or resolved).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ingest.schemas import CALLCENTER_CALLS, CALLCENTER_TICKETS

from . import defects as d
from . import malformed as mf
from .contacts import Phones
from .context import DAY, Context
from .defects import DEFECT_RATES as R
from .erp import ErpResult
from .formats import (
    PH_DASH,
    PH_INTL_DASH,
    PH_INTL_PLAIN,
    PH_PLAIN,
    PH_SPACE,
    S,
    cat,
    digits,
    fmt_iso,
    fmt_phone,
    fmt_ts,
    fmt_yymmdd,
)
from .people import MIX, Population
from .pools import INTERNET_PHONE, MOBILE, PREFIX_INDEX
from .shop import ShopResult
from .truth import Truth
from .writers import CsvFile, JsonlFile

HISTORY_DAYS = 180
CHUNK = 100_000
CATEGORIES = np.array(["문의", "불만", "반품", "해지"], dtype=S)
DIRECTIONS = np.array(["inbound", "outbound"], dtype=S)
TICKET_STATUS = np.array(["received", "assigned", "resolved"], dtype=S)
N_AGENTS = 40
MEMOS: dict[int, tuple[str, ...]] = {
    0: (
        "배송 일정 문의",
        "상품 재고 문의",
        "회원 등급 혜택 문의",
        "주문 내역 확인 요청",
        "결제 수단 변경 문의",
        "주소 변경 요청",
    ),
    1: ("배송 지연 불만", "상품 파손 접수", "상담원 응대 불만", "오배송 불만 - 재발송 안내"),
    2: ("반품 요청 - 회수 접수", "사이즈 교환 요청", "단순 변심 반품 문의", "불량 반품 접수"),
    3: ("회원 탈퇴 요청", "정기배송 해지 요청", "해지 의사 표명 - 혜택 안내 후 보류"),
}
MEMO_TEXT = np.array([m for c in range(4) for m in MEMOS[c]], dtype=S)
MEMO_OFFSET = np.cumsum([0] + [len(MEMOS[c]) for c in range(4)])
CALLER_LAYOUTS = {PH_DASH: 0.25, PH_INTL_PLAIN: 0.08, PH_INTL_DASH: 0.04, PH_SPACE: 0.03}
MOBILE_PREFIXES = {PREFIX_INDEX[p] for p in ("010", "011", "016", "017", "018", "019")}


def numbers_on_file(erp: ErpResult, shop: ShopResult) -> np.ndarray:
    """The numbers a CRM look-up by caller number finds: valid ERP mobiles and home phones, valid
    shop mobiles (as keys of `_number_keys`)."""
    c, m = erp.customers, shop.members
    held = [_number_keys(phones)[phones.defect == d.OK] for phones in (c.mobile, c.home, m.mobile)]
    return np.unique(np.concatenate(held))


def _number_keys(phones: Phones) -> np.ndarray:
    return (phones.prefix.astype(np.int64) * 100_000 + phones.mid) * 100_000 + phones.last


def generate_calls(ctx: Context, pop: Population, truth: Truth, on_file: np.ndarray) -> None:
    rng = ctx.rng("callcenter")
    customers = np.flatnonzero(pop.in_erp | pop.in_shop)  # everybody, by construction
    share = min(1.0, MIX["caller"] * pop.n / max(len(customers), 1))
    callers = customers[rng.random(len(customers)) < share]
    per_caller = 1 + rng.poisson(0.5, len(callers))
    person = np.repeat(callers, per_caller)
    n_strangers = round(len(person) * R["call_non_customer"] / (1 - R["call_non_customer"]))
    person = np.concatenate([person, np.full(n_strangers, -1)])
    n = len(person)
    known = person >= 0
    pidx = np.where(known, person, 0)

    # when: office hours on weekdays mostly, over the last 180 days of day 1 and the later days
    first = ctx.first_day - HISTORY_DAYS + 1
    days = np.arange(first, ctx.last_day + 1)
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    weight = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.4, 0.15))
    day = rng.choice(days, n, p=weight / weight.sum())
    hour = rng.choice(
        np.arange(8, 21),
        n,
        p=np.array([2, 9, 12, 11, 6, 9, 11, 10, 9, 7, 4, 2, 1], dtype=float) / 93,
    )
    started = day.astype(np.int64) * DAY + hour * 3600 + rng.integers(0, 3600, n)
    order = np.lexsort((rng.random(n), started))
    person, known, pidx, started = person[order], known[order], pidx[order], started[order]

    # which number the CTI saw: the mobile, else the home phone, else a withheld number
    mobile = pop.mobile.take(pidx)
    home = pop.home.take(pidx)
    use_home = (
        known & ((mobile.defect == d.MISSING) | (rng.random(n) < 0.12)) & (home.defect != d.MISSING)
    )
    phone = mobile.copy()
    phone.assign(np.flatnonzero(use_home), home.take(use_home))
    strangers = np.flatnonzero(~known)
    mobile_stranger = rng.random(len(strangers)) < 0.7
    phone.prefix[strangers] = np.where(
        mobile_stranger,
        PREFIX_INDEX[MOBILE],
        rng.choice(
            [PREFIX_INDEX["02"], PREFIX_INDEX["031"], PREFIX_INDEX[INTERNET_PHONE]], len(strangers)
        ),
    )
    phone.mid[strangers] = rng.integers(2000, 10000, len(strangers))
    phone.mid_len[strangers] = 4
    phone.last[strangers] = rng.integers(0, 10000, len(strangers))
    phone.last_len[strangers] = 4
    phone.defect[strangers] = d.OK
    phone.layout = d.draw(rng, n, CALLER_LAYOUTS)
    phone.layout[phone.layout == 0] = PH_PLAIN  # most CTI systems store bare digits
    codes = d.draw(
        rng, n, {d.MISSING: R["call_hidden_number"], d.TOO_SHORT: R["call_number_too_short"]}
    )
    codes[(phone.defect == d.MISSING) & known] = d.MISSING
    short = codes == d.TOO_SHORT
    phone.mid[short] %= 1000
    phone.mid_len[short] = 3
    phone.last_len[short] = 3
    phone.last[short] %= 1000
    phone.defect = codes
    caller = fmt_phone(
        phone.prefix, phone.mid, phone.mid_len, phone.last, phone.last_len, phone.layout
    )
    caller_list: list[str | None] = caller.tolist()
    for i in np.flatnonzero(codes == d.MISSING).tolist():
        caller_list[i] = None
    is_mobile = np.isin(phone.prefix, list(MOBILE_PREFIXES))

    # what the agent typed
    names = pop.names.take(pidx).vary(rng, 0.08, 0.0)
    stranger_names = pop.names.take(rng.integers(0, pop.n, n))  # someone else's name
    name_text = np.where(
        known,
        names.render(pop.given_pool, pop.pools.surnames, slice(None)),
        stranger_names.render(pop.given_pool, pop.pools.surnames, slice(None)),
    )
    name_missing = rng.random(n) < np.where(known, R["call_name_missing"], 0.5)
    # 본인확인: when the CRM finds nobody by the caller number, the agent asks for the name and
    # the six-digit birth date (YYMMDD) and notes the date in the memo
    verify_rng = ctx.rng("callcenter.verification")
    found = np.isin(_number_keys(phone), on_file) & (codes == d.OK)
    verified = verify_rng.random(n) < np.where(
        found, R["call_birth_verified_number_found"], R["call_birth_verified_number_unknown"]
    )
    stranger_birth = ctx.last_day - verify_rng.integers(20 * 365, 80 * 365, n)
    told_birth = np.where(known, pop.birth.take(pidx), stranger_birth)
    name_missing &= ~verified
    direction = np.where(known & (rng.random(n) < 0.2), 1, 0)
    category = rng.choice(4, n, p=[0.55, 0.2, 0.15, 0.1])
    duration = np.maximum(5, rng.lognormal(np.log(180), 0.7, n)).astype(np.int64)
    sat_p = np.array(
        [
            [0.05, 0.05, 0.15, 0.35, 0.40],
            [0.30, 0.25, 0.25, 0.15, 0.05],
            [0.10, 0.15, 0.30, 0.30, 0.15],
            [0.20, 0.20, 0.30, 0.20, 0.10],
        ]
    )
    cum = np.cumsum(sat_p[category], axis=1)
    satisfaction = 1 + (rng.random(n)[:, None] > cum).sum(axis=1)
    sat_missing = rng.random(n) < 0.6
    memo_idx = MEMO_OFFSET[category] + (rng.random(n) * np.diff(MEMO_OFFSET)[category]).astype(int)
    memo = MEMO_TEXT[memo_idx]
    # agents note the RRN a known customer identified with (never for strangers: no record)
    rrn = np.flatnonzero((rng.random(n) < R["call_rrn_in_memo"]) & known)
    birth_noted = np.flatnonzero(verified & ~np.isin(np.arange(n), rrn))
    if len(birth_noted):
        memo[birth_noted] = cat(
            memo[birth_noted], " / 본인확인 생년월일 ", fmt_yymmdd(told_birth[birth_noted])
        )
    if len(rrn):
        memo[rrn] = cat(memo[rrn], " / 본인확인 주민번호 ", pop.rrn(person[rrn]))
    agent = rng.integers(1, N_AGENTS + 1, n)
    call_id = cat("CL", digits(np.arange(n) + 1, 9))

    cols: list[list[Any]] = [
        call_id.tolist(),
        fmt_iso(started).tolist(),
        DIRECTIONS[direction].tolist(),
        caller_list,
        [
            None if miss else v
            for v, miss in zip(name_text.tolist(), name_missing.tolist(), strict=True)
        ],
        CATEGORIES[category].tolist(),
        duration.tolist(),
        cat("AG", digits(agent, 3)).tolist(),
        [
            None if miss else int(v)
            for v, miss in zip(satisfaction.tolist(), sat_missing.tolist(), strict=True)
        ],
        memo.tolist(),
    ]
    bounds = np.searchsorted(ctx.file_day(started // DAY), np.arange(ctx.days + 1))
    good = np.ones(n, dtype=bool)
    kinds = mf.applicable_kinds(CALLCENTER_CALLS, mf.JSONL_KINDS)
    for k, day_no in enumerate(range(ctx.first_day, ctx.last_day + 1)):
        a, b = int(bounds[k]), int(bounds[k + 1])
        rel = f"callcenter/calls_{_stamp(day_no)}.jsonl"
        bad = mf.pick(ctx.rng(f"malformed:{rel}"), b - a, kinds, ctx.malformed_rate)
        out = JsonlFile(ctx.landing / rel, rel, CALLCENTER_CALLS, bad, truth)
        for s in range(a, b, CHUNK):
            e = min(s + CHUNK, b)
            out.write([c[s:e] for c in cols])
        out.close()
        good[np.array(sorted(bad), dtype=np.int64) + a] = False

    pids = np.where(known, pop.person_ids(pidx), "")
    ok = np.flatnonzero(good)
    truth.identity("callcenter_call", call_id[ok].tolist(), pids[ok].tolist())
    field = np.where(is_mobile | (codes == d.MISSING), "mobile", "home_phone")
    # contacts.csv: caller_number, filed as mobile or home_phone by its prefix
    for f in ("mobile", "home_phone"):
        sel = ok[field[ok] == f]
        truth.contacts(
            "callcenter_call",
            call_id[sel].tolist(),
            f,
            np.where(codes[sel] == d.MISSING, "", caller[sel]).astype(S),
            codes[sel],
        )

    _tickets(ctx, rng, truth, call_id, started + duration, caller_list, category, pids)


def _stamp(day: int) -> str:
    return str(np.datetime64(day, "D")).replace("-", "")


def _tickets(
    ctx: Context,
    rng: np.random.Generator,
    truth: Truth,
    call_id: np.ndarray,
    ended: np.ndarray,
    caller: list[str | None],
    category: np.ndarray,
    pids: np.ndarray,
) -> None:
    opened = np.flatnonzero(rng.random(len(call_id)) < 0.3)
    m = len(opened)
    received = ended[opened] + rng.integers(5, 300, m)
    assigned = received + np.exp(rng.uniform(np.log(300), np.log(2 * DAY), m)).astype(np.int64)
    resolved = assigned + np.exp(rng.uniform(np.log(1800), np.log(7 * DAY), m)).astype(np.int64)
    never = rng.random(m) < 0.05  # some tickets are never resolved
    resolved = np.where(never, np.iinfo(np.int64).max // 2, resolved)
    agent = cat("AG", digits(rng.integers(1, N_AGENTS + 1, m), 3))
    ticket_id = cat("TK", digits(np.arange(m) + 1, 8))
    callers = [caller[i] or "" for i in opened.tolist()]
    kinds = mf.applicable_kinds(CALLCENTER_TICKETS, mf.TICKET_KINDS)
    seen = np.zeros(m, dtype=bool)
    for k, day_no in enumerate(range(ctx.first_day, ctx.last_day + 1)):
        cutoff = (day_no + 1) * DAY  # the export runs at the end of the day
        lo = -(1 << 62) if k == 0 else day_no * DAY
        in_day = [(t >= lo) & (t < cutoff) for t in (received, assigned, resolved)]
        rows = np.flatnonzero(in_day[0] | in_day[1] | in_day[2])
        status = (assigned[rows] < cutoff).astype(int) + (resolved[rows] < cutoff)
        rel = f"callcenter/tickets_{_stamp(day_no)}.csv"
        bad = mf.pick(ctx.rng(f"malformed:{rel}"), len(rows), kinds, ctx.malformed_rate)
        out = CsvFile(
            ctx.landing / rel,
            rel,
            CALLCENTER_TICKETS,
            bad,
            truth,
            encoding="utf-8",
            newline="\n",
            bom=True,
        )
        for s in range(0, len(rows), CHUNK):
            r = rows[s : s + CHUNK]
            st = status[s : s + CHUNK]
            out.write(
                [
                    ticket_id[r].tolist(),
                    call_id[opened[r]].tolist(),
                    [callers[i] for i in r],
                    CATEGORIES[category[opened[r]]].tolist(),
                    TICKET_STATUS[st].tolist(),
                    fmt_ts(received[r]).tolist(),
                    np.where(st >= 1, fmt_ts(np.minimum(assigned[r], cutoff)), "").tolist(),
                    np.where(st >= 2, fmt_ts(np.minimum(resolved[r], cutoff)), "").tolist(),
                    np.where(st >= 1, agent[r], "").tolist(),
                ]
            )
        out.close()
        good_rows = np.setdiff1d(rows, rows[np.array(sorted(bad), dtype=np.int64)])
        seen[good_rows] = True
    ok = np.flatnonzero(seen)
    truth.identity("callcenter_ticket", ticket_id[ok].tolist(), pids[opened[ok]].tolist())
