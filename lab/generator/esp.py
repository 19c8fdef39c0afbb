"""The e-mail service provider's feed: campaigns and the webhook event log (JSON Lines).

Lists come from the e-mail addresses (and, for SMS, mobile numbers) known to the ERP and the
shop, minus everyone who refused that channel in the shop and everyone who unsubscribed or
complained earlier. A campaign's first wave goes to a segment; waves 2-3 go to "delivered, not
opened" recipients with another subject and sender. Outcomes follow the proportions of the
seed's campaign report (19,396 sent / 6,506 delivered / 6,007 spam-blocked / ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ingest.schemas import ESP_CAMPAIGNS, ESP_EVENTS

from . import defects as d
from . import malformed as mf
from .context import DAY, Context
from .defects import DEFECT_RATES as R
from .erp import ErpResult
from .formats import S, cat, digits, fmt_iso, phone_digits
from .people import Population
from .shop import ShopResult
from .truth import Truth
from .writers import JsonlFile

CHUNK = 100_000
HISTORY_DAYS = 180
EVERY_DAYS = 14
WAVE_GAP_DAYS = 3
SMS_SLOTS = (2, 6, 10)  # which fortnightly slots are SMS campaigns
# the seed's report: of 19,396 e-mails sent ...
SEED_SENT = 19_396
SEED = {
    "delivered": 6_506,
    "spam_blocked": 6_007,
    "hard_bounce": 2_907,
    "failed": 2_906,
    "open": 962,
    "click": 103,
    "unsubscribe": 5,
}
COMPLAINT_PER_OPEN = 1 / 962

EVENT_TYPES = np.array(
    [
        "sent",
        "delivered",
        "soft_bounce",
        "hard_bounce",
        "spam_blocked",
        "failed",
        "open",
        "click",
        "unsubscribe",
        "complaint",
    ],
    dtype=S,
)
(SENT, DELIVERED, SOFT, HARD, SPAM, FAILED, OPEN, CLICK, UNSUB, COMPLAINT) = range(10)
REASONS = np.array(
    [
        "",
        "550 5.1.1 user unknown",
        "550 5.1.2 host unknown: domain not found",
        "452 4.2.2 mailbox full",
        "451 4.7.1 greylisted, try again later",
        "554 5.7.1 message rejected as spam",
        "550 5.7.350 blocked by recipient policy",
        "invalid recipient address syntax",
        "connection timed out",
        "421 service not available",
        "unallocated number",
        "handset unreachable",
    ],
    dtype=S,
)
THEMES = (
    "정기 세일",
    "신상품 안내",
    "회원 감사 쿠폰",
    "건강식품 기획전",
    "주방용품 특가",
    "가전 할인전",
    "VIP 초대전",
    "시즌오프",
    "명절 선물세트",
    "주말 특가",
    "앱 전용 혜택",
    "무료배송 주간",
    "리뷰 이벤트",
)
SUBJECTS = (
    "[고객사랑몰] {} 지금 시작합니다",
    "(재발송) {} - 아직 확인하지 않으셨나요?",
    "{} 마감 임박! 마지막 안내",
)
SENDERS = (
    "고객사랑몰 <news@gogaek-shop.co.kr>",
    "김지은 매니저 <manager@gogaek-shop.co.kr>",
    "고객사랑몰 혜택팀 <benefit@gogaek-shop.co.kr>",
)
SMS_SENDER = "1588-0000"
LINKS = ("event", "coupon", "best")


@dataclass
class Recipients:
    text: np.ndarray  # exactly as the ESP holds it
    person: np.ndarray
    bad: np.ndarray  # defect code of the address (0 = valid)
    suppressed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.suppressed = np.zeros(len(self.text), dtype=bool)


class _Carry:
    """Exact proportions across many small waves: carry the rounding remainder forward."""

    def __init__(self) -> None:
        self.rest: dict[str, float] = {}

    def __call__(self, name: str, share: float, n: int) -> int:
        want = share * n + self.rest.get(name, 0.0)
        got = int(np.floor(want + 1e-9))
        self.rest[name] = want - got
        return min(got, n)


@dataclass
class _Events:
    campaign: list[np.ndarray] = field(default_factory=list)
    recipient: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    at: list[np.ndarray] = field(default_factory=list)
    reason: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        campaign: int,
        recipient: np.ndarray,
        kind: int | np.ndarray,
        at: np.ndarray,
        reason: int | np.ndarray = 0,
    ) -> None:
        n = len(recipient)
        self.campaign.append(np.full(n, campaign, dtype=np.int32))
        self.recipient.append(recipient.astype(np.int64))
        self.kind.append(np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy())
        self.at.append(at.astype(np.int64))
        self.reason.append(np.broadcast_to(np.asarray(reason, dtype=np.int8), (n,)).copy())


def _email_list(erp: ErpResult, shop: ShopResult, pop: Population) -> Recipients:
    c, m = erp.customers, shop.members
    users = pop.pools.user_names
    text = np.concatenate([c.email.render(users, slice(None)), m.email.render(users, slice(None))])
    person = np.concatenate([c.person, m.person])
    bad = np.concatenate([c.email.defect, m.email.defect])
    keep = (bad != d.MISSING) & (bad != d.PLACEHOLDER) & ~shop.refused_email[person]
    text, person, bad = text[keep], person[keep], bad[keep]
    # the ESP treats addresses case-insensitively: one entry per address, first spelling wins
    _, first = np.unique(np.strings.lower(text), return_index=True)
    first = np.sort(first)
    return Recipients(text=text[first], person=person[first], bad=bad[first])


def _sms_list(erp: ErpResult, shop: ShopResult) -> Recipients:
    c, m = erp.customers, shop.members
    text = np.concatenate([c.mobile.render(slice(None)), m.mobile.render(slice(None))])
    person = np.concatenate([c.person, m.person])
    bad = np.concatenate([c.mobile.defect, m.mobile.defect])
    keep = (bad != d.MISSING) & ~shop.refused_sms[person]
    text, person, bad = text[keep], person[keep], bad[keep]
    key = np.array(phone_digits(text.tolist()), dtype=S)
    # a number typed for several people (010-0000-0000) cannot be attributed: leave it out
    order = np.lexsort((person, key))
    k_sorted, p_sorted = key[order], person[order]
    same_key = k_sorted[1:] == k_sorted[:-1]
    clash = same_key & (p_sorted[1:] != p_sorted[:-1])
    ambiguous = np.unique(k_sorted[1:][clash])
    keep = ~np.isin(key, ambiguous)
    text, person, bad, key = text[keep], person[keep], bad[keep], key[keep]
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    return Recipients(text=text[first], person=person[first], bad=bad[first])


@dataclass
class _Campaign:
    cid: str
    name: str
    channel: str
    subject: str | None
    sender: str
    wave: int
    parent_cid: str | None  # wave 1's id for re-sends
    scheduled: int  # seconds
    parent: int = -1  # index of wave 1 in the plan list


def _plan(ctx: Context, rng: np.random.Generator) -> list[_Campaign]:
    plans: list[_Campaign] = []
    oldest = ctx.last_day - HISTORY_DAYS + 1
    slot = 0
    while ctx.last_day - 1 - EVERY_DAYS * slot >= oldest:
        day = ctx.last_day - 1 - EVERY_DAYS * slot
        month = int(str(np.datetime64(day, "D"))[5:7])
        name = f"{month}월 {THEMES[slot % len(THEMES)]}"
        sms = slot in SMS_SLOTS
        waves = 1 if sms else (3 if slot % 3 == 0 else 2 if slot % 3 == 1 else 1)
        first_cid = ""
        for wave in range(1, waves + 1):
            wday = day + WAVE_GAP_DAYS * (wave - 1)
            if wday > ctx.last_day:
                break
            stamp = str(np.datetime64(wday, "D")).replace("-", "")
            cid = f"CMP{stamp}W{wave}"
            first_cid = first_cid or cid
            plans.append(
                _Campaign(
                    cid=cid,
                    name=name + (" (SMS)" if sms else ""),
                    channel="sms" if sms else "email",
                    subject=None if sms else SUBJECTS[wave - 1].format(name),
                    sender=SMS_SENDER if sms else SENDERS[wave - 1],
                    wave=wave,
                    parent_cid=None if wave == 1 else first_cid,
                    scheduled=wday * DAY + 10 * 3600 + int(rng.integers(0, 1800)),
                )
            )
        slot += 1
    plans.sort(key=lambda p: (p.scheduled, p.cid))
    index = {p.cid: i for i, p in enumerate(plans)}
    for p in plans:
        p.parent = index[p.parent_cid] if p.parent_cid else -1
    return plans


def generate_esp(
    ctx: Context, pop: Population, erp: ErpResult, shop: ShopResult, truth: Truth
) -> None:
    rng = ctx.rng("esp")
    emails = _email_list(erp, shop, pop)
    phones = _sms_list(erp, shop)
    offset = len(emails.text)  # recipient index space: e-mails first, then phones
    plans = _plan(ctx, rng)
    ev = _Events()
    carry = _Carry()
    # per (first wave, wave): who got it delivered and when they opened it
    delivered_of: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for ci, plan in enumerate(plans):
        if plan.channel == "sms":
            _sms_wave(rng, phones, offset, ci, plan, ev)
            continue
        if plan.wave == 1:
            eligible = np.flatnonzero(~emails.suppressed)
            size = min(len(eligible), max(200, round(0.12 * len(emails.text))))
            target = np.sort(rng.choice(eligible, size, replace=False))
        else:
            empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
            got, opened_at = delivered_of.get((plan.parent, plan.wave - 1), empty)
            # "reached, not opened" (by the time of this wave), never anyone who refused
            target = got[(opened_at >= plan.scheduled) & ~emails.suppressed[got]]
        first = ci if plan.wave == 1 else plan.parent
        delivered_of[(first, plan.wave)] = _email_wave(rng, carry, emails, ci, plan, target, ev)
    _write_campaigns(ctx, plans, truth)
    recipients_text = np.concatenate([emails.text, phones.text])
    recipients_person = np.concatenate([emails.person, phones.person])
    _write_events(ctx, rng, ev, plans, recipients_text, recipients_person, pop, truth)


def _email_wave(
    rng: np.random.Generator,
    carry: _Carry,
    emails: Recipients,
    ci: int,
    plan: _Campaign,
    target: np.ndarray,
    ev: _Events,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(target)
    never = np.iinfo(np.int64).max
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sent_at = plan.scheduled + rng.integers(0, 2 * 3600, n)  # throttled, spread over 2 hours
    ev.add(ci, target, SENT, sent_at)
    outcome = np.full(n, SOFT, dtype=np.int8)
    bad = emails.bad[target]
    typo = bad == d.TYPO_DOMAIN
    no_at = bad == d.NO_AT
    # invalid addresses can only bounce (unknown domain) or fail (no address at all)
    outcome[typo] = HARD
    outcome[no_at] = FAILED
    valid = np.flatnonzero(~typo & ~no_at)
    want = {
        k: carry(k, SEED[k] / SEED_SENT, n)
        for k in ("delivered", "spam_blocked", "hard_bounce", "failed")
    }
    counts = [
        want["delivered"],
        want["spam_blocked"],
        max(0, want["hard_bounce"] - int(typo.sum())),
        max(0, want["failed"] - int(no_at.sum())),
    ]
    while sum(counts) > len(valid):  # tiny waves: trim the largest bucket
        counts[int(np.argmax(counts))] -= 1
    shuffled = rng.permutation(valid)
    edges = np.cumsum([0, *counts])
    for code, a, b in zip((DELIVERED, SPAM, HARD, FAILED), edges[:-1], edges[1:], strict=True):
        outcome[shuffled[a:b]] = code
    # reasons worded as receiving servers word them (index into REASONS)
    reason = np.zeros(n, dtype=np.int8)
    for code, choices in ((SPAM, (5, 6)), (HARD, (1,)), (FAILED, (8, 9)), (SOFT, (3, 4))):
        hit = outcome == code
        reason[hit] = rng.choice(np.array(choices, dtype=np.int8), int(hit.sum()))
    reason[typo] = 2
    reason[no_at] = 7
    soft = outcome == SOFT
    delay = np.where(soft, rng.integers(60, 3600, n), rng.integers(1, 60, n))
    ev.add(ci, target, outcome, sent_at + delay, reason)

    got = np.flatnonzero(outcome == DELIVERED)
    delivered_at = sent_at[got] + delay[got]
    opened_at = np.full(len(got), never, dtype=np.int64)
    n_open = carry("open", SEED["open"] / SEED["delivered"], len(got))
    openers = np.sort(rng.choice(len(got), n_open, replace=False))
    lag = np.minimum(rng.lognormal(np.log(3 * 3600), 1.5, n_open), 10 * DAY).astype(np.int64)
    opened_at[openers] = delivered_at[openers] + lag
    ev.add(ci, target[got[openers]], OPEN, opened_at[openers])
    for kind, share, gap in (
        (CLICK, SEED["click"] / SEED["open"], 600),
        (UNSUB, SEED["unsubscribe"] / SEED["open"], 300),
        (COMPLAINT, COMPLAINT_PER_OPEN, 600),
    ):
        name = str(EVENT_TYPES[kind])
        who = np.sort(rng.choice(openers, carry(name, share, n_open), replace=False))
        ev.add(ci, target[got[who]], kind, opened_at[who] + rng.integers(5, gap, len(who)))
        if kind in (UNSUB, COMPLAINT):
            # the list honours refusals: every address of that person leaves the list
            gone = np.isin(emails.person, emails.person[target[got[who]]])
            emails.suppressed |= gone
    return target[got], opened_at


def _sms_wave(
    rng: np.random.Generator, phones: Recipients, offset: int, ci: int, plan: _Campaign, ev: _Events
) -> None:
    eligible = np.flatnonzero(~phones.suppressed)
    size = min(len(eligible), max(200, round(0.1 * len(phones.text))))
    target = np.sort(rng.choice(eligible, size, replace=False))
    sent_at = plan.scheduled + rng.integers(0, 3600, size)
    ev.add(ci, target + offset, SENT, sent_at)
    invalid = phones.bad[target] != d.OK
    failed = invalid | (rng.random(size) < 0.04)
    ev.add(
        ci,
        target + offset,
        np.where(failed, FAILED, DELIVERED).astype(np.int8),
        sent_at + rng.integers(1, 30, size),
        np.where(invalid, 10, np.where(failed, 11, 0)).astype(np.int8),
    )


def _stamp(day: int) -> str:
    return str(np.datetime64(day, "D")).replace("-", "")


def _write_campaigns(ctx: Context, plans: list[_Campaign], truth: Truth) -> None:
    days = np.array([p.scheduled // DAY for p in plans], dtype=np.int64)
    file_of = ctx.file_day(days)
    kinds = mf.applicable_kinds(ESP_CAMPAIGNS, mf.JSONL_KINDS)
    for k, day_no in enumerate(range(ctx.first_day, ctx.last_day + 1)):
        rows = [p for p, f in zip(plans, file_of.tolist(), strict=True) if f == k]
        rel = f"esp/campaigns_{_stamp(day_no)}.jsonl"
        bad = mf.pick(ctx.rng(f"malformed:{rel}"), len(rows), kinds, ctx.malformed_rate)
        out = JsonlFile(ctx.landing / rel, rel, ESP_CAMPAIGNS, bad, truth)
        out.write(
            [
                [p.cid for p in rows],
                [p.name for p in rows],
                [p.channel for p in rows],
                [p.subject for p in rows],
                [p.sender for p in rows],
                [p.wave for p in rows],
                [p.parent_cid for p in rows],
                fmt_iso(np.array([p.scheduled for p in rows], dtype=np.int64)).tolist(),
            ]
        )
        out.close()


def _write_events(
    ctx: Context,
    rng: np.random.Generator,
    ev: _Events,
    plans: list[_Campaign],
    recipients: np.ndarray,
    owners: np.ndarray,
    pop: Population,
    truth: Truth,
) -> None:
    if not ev.at:
        ev.add(0, np.zeros(0, np.int64), SENT, np.zeros(0, np.int64))
    campaign = np.concatenate(ev.campaign)
    recipient = np.concatenate(ev.recipient)
    kind = np.concatenate(ev.kind)
    at = np.concatenate(ev.at)
    reason = np.concatenate(ev.reason)
    happened = at < ctx.end_sec  # later opens and clicks have not happened yet
    campaign, recipient, kind, at, reason = (
        a[happened] for a in (campaign, recipient, kind, at, reason)
    )
    order = np.lexsort((kind, recipient, campaign, at))
    campaign, recipient, kind, at, reason = (
        a[order] for a in (campaign, recipient, kind, at, reason)
    )
    n = len(at)
    event_id = cat("EV", digits(np.arange(n) + 1, 10))
    is_email = np.array([p.channel == "email" for p in plans], dtype=bool)[campaign]
    truth.extra["esp_funnel"] = {  # what happened, before duplicates and late arrival
        f"email_{EVENT_TYPES[k]}": int(((kind == k) & is_email).sum())
        for k in range(len(EVENT_TYPES))
    }

    # delivery: 1 % arrive a day or two late, 2 % arrive twice (same event_id)
    arrival = at.copy()
    late = rng.random(n) < R["esp_late_event"]
    arrival[late] += rng.integers(DAY, 3 * DAY, int(late.sum()))
    dup = np.flatnonzero(rng.random(n) < R["esp_duplicate_event"])
    next_day = rng.random(len(dup)) < 0.3
    dup_arrival = arrival[dup] + np.where(
        next_day, rng.integers(DAY, 2 * DAY, len(dup)), rng.integers(1, 600, len(dup))
    )
    src = np.concatenate([np.arange(n), dup])
    arrival = np.concatenate([arrival, dup_arrival])
    arrived = arrival < ctx.end_sec
    src, arrival = src[arrived], arrival[arrived]
    order = np.lexsort((src, arrival))
    src, arrival = src[order], arrival[order]
    bounds = np.searchsorted(ctx.file_day(arrival // DAY), np.arange(ctx.days + 1))

    cids = np.array([p.cid for p in plans], dtype=S)
    links = np.array(LINKS, dtype=S)
    kinds = mf.applicable_kinds(ESP_EVENTS, mf.JSONL_KINDS)
    seen = np.zeros(len(recipients), dtype=bool)
    for k, day_no in enumerate(range(ctx.first_day, ctx.last_day + 1)):
        a, b = int(bounds[k]), int(bounds[k + 1])
        rel = f"esp/events_{_stamp(day_no)}.jsonl"
        bad = mf.pick(ctx.rng(f"malformed:{rel}"), b - a, kinds, ctx.malformed_rate)
        out = JsonlFile(ctx.landing / rel, rel, ESP_EVENTS, bad, truth)
        for s in range(a, b, CHUNK):
            e = min(s + CHUNK, b)
            r = src[s:e]
            click = kind[r] == CLICK
            url = cat(
                "https://www.gogaek-shop.co.kr/",
                links[recipient[r] % len(links)],
                "?utm_source=esp&utm_campaign=",
                cids[campaign[r]],
            )
            out.write(
                [
                    event_id[r].tolist(),
                    cids[campaign[r]].tolist(),
                    recipients[recipient[r]].tolist(),
                    EVENT_TYPES[kind[r]].tolist(),
                    fmt_iso(at[r]).tolist(),
                    [u if c else None for u, c in zip(url.tolist(), click.tolist(), strict=True)],
                    [REASONS[x] if x else None for x in reason[r].tolist()],
                ]
            )
            broken = np.isin(np.arange(s, e) - a, np.fromiter(bad, dtype=np.int64))
            seen[recipient[r[~broken]]] = True
        out.close()
    idx = np.flatnonzero(seen)
    truth.identity("esp_recipient", recipients[idx].tolist(), pop.person_ids(owners[idx]).tolist())
