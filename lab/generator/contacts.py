"""Contact fields (name, phones, e-mail, postal code, address) as arrays of codes.

A person's canonical contact data and every source record's copy of it share these classes: a
record starts as a subset of the person's arrays and then gets its own layout, spelling and
defects. Text is only rendered slice by slice, when a file chunk is written, to keep memory low.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, fields, replace
from typing import Any, ClassVar, Self

import numpy as np

from . import defects as d
from .formats import PH_DASH, PH_NO_ZERO, S, cat, digits, empty, fmt_phone, where
from .pools import (
    APARTMENT_BRANDS,
    EMAIL_DOMAINS,
    EMAIL_PLACEHOLDERS,
    LEGACY_MOBILE,
    PREFIX_INDEX,
    REGIONS,
    TYPO_DOMAINS,
    VILLA_NAMES,
    Pools,
)

Index = slice | np.ndarray

DOMAIN_NAMES = np.array([name for name, _ in EMAIL_DOMAINS], dtype=S)
DOMAIN_WEIGHTS = np.array([w for _, w in EMAIL_DOMAINS]) / sum(w for _, w in EMAIL_DOMAINS)
_TYPO_WIDTH = 4
TYPO_TABLE = np.array(
    [
        TYPO_DOMAINS[name][i % len(TYPO_DOMAINS[name])]
        for name, _ in EMAIL_DOMAINS
        for i in range(_TYPO_WIDTH)
    ],
    dtype=S,
)
PLACEHOLDERS = np.array(EMAIL_PLACEHOLDERS, dtype=S)
BRANDS = np.array(APARTMENT_BRANDS, dtype=S)
VILLAS = np.array(VILLA_NAMES, dtype=S)
LEGACY_PREFIXES = np.array([PREFIX_INDEX[p] for p in LEGACY_MOBILE], dtype=np.int16)
# Values typed to get past a mandatory phone field.
DUMMY_NUMBERS = ((0, 0), (1111, 1111), (1234, 5678), (0, 1234))


class Arrays:
    """A dataclass whose fields are equally long arrays: subset and copy in one call."""

    # Every subclass is a @dataclass: what `fields` reads (declared for the type checker).
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def take(self, idx: Index) -> Self:
        return type(self)(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def copy(self) -> Self:
        return type(self)(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def assign(self, idx: np.ndarray, other: Arrays) -> None:
        for f in fields(self):
            getattr(self, f.name)[idx] = getattr(other, f.name)

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))


def status_and_defect(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = np.asarray(codes, dtype=np.int64)
    return d.STATUS_NAMES[codes], d.DEFECT_NAMES[codes]


# ---------------------------------------------------------------- names
INNER_SPACE, TRAILING_SPACE = 1, 2  # bit flags


@dataclass
class Names(Arrays):
    surname: np.ndarray
    given: np.ndarray  # index into Pools.given_male + Pools.given_female
    variant: np.ndarray  # INNER_SPACE | TRAILING_SPACE bits
    defect: np.ndarray

    def render(self, given_pool: np.ndarray, surnames: np.ndarray, sl: Index) -> np.ndarray:
        variant = self.variant[sl]
        inner = where((variant & INNER_SPACE) > 0, " ", "")
        trail = where((variant & TRAILING_SPACE) > 0, " ", "")
        out = cat(surnames[self.surname[sl]], inner, given_pool[self.given[sl]], trail)
        out[self.defect[sl] == d.MISSING] = ""
        return out

    def vary(self, rng: np.random.Generator, inner: float, trailing: float) -> Names:
        n = len(self)
        variant = (
            np.where(rng.random(n) < inner, INNER_SPACE, 0)
            | np.where(rng.random(n) < trailing, TRAILING_SPACE, 0)
        ).astype(np.int8)
        return replace(self, variant=variant)


# ---------------------------------------------------------------- phones
@dataclass
class Phones(Arrays):
    prefix: np.ndarray  # index into pools.PHONE_PREFIXES
    mid: np.ndarray
    mid_len: np.ndarray
    last: np.ndarray
    last_len: np.ndarray
    layout: np.ndarray  # formats.PH_*
    defect: np.ndarray

    def render(self, sl: Index) -> np.ndarray:
        out = fmt_phone(
            self.prefix[sl],
            self.mid[sl],
            self.mid_len[sl],
            self.last[sl],
            self.last_len[sl],
            self.layout[sl],
        )
        out[self.defect[sl] == d.MISSING] = ""
        return out

    def spoil(
        self,
        rng: np.random.Generator,
        layouts: dict[int, float],
        defects: dict[int, float],
        mobile: bool,
    ) -> Phones:
        """A source's copy: its own layouts, plus defects drawn at the given rates."""
        out = self.copy()
        n = len(out)
        out.layout = d.draw(rng, n, layouts)
        codes = d.draw(rng, n, defects)
        codes[out.defect == d.MISSING] = d.MISSING  # nothing to spoil where nothing is known
        out.defect = codes
        short = codes == d.TOO_SHORT
        out.mid[short] %= 1000
        out.mid_len[short] = 3
        out.last[short] %= 1000
        out.last_len[short] = 3
        dummy = np.flatnonzero(codes == d.DUMMY)
        pick = rng.integers(0, len(DUMMY_NUMBERS), len(dummy))
        out.mid[dummy] = np.array([DUMMY_NUMBERS[i][0] for i in pick.tolist()], dtype=np.int32)
        out.last[dummy] = np.array([DUMMY_NUMBERS[i][1] for i in pick.tolist()], dtype=np.int32)
        out.mid_len[dummy] = np.where(out.mid_len[dummy] == 3, 3, 4)
        out.last_len[dummy] = 4
        if mobile:
            legacy = np.flatnonzero(codes == d.LEGACY_PREFIX)
            out.prefix[legacy] = rng.choice(LEGACY_PREFIXES, len(legacy))
            three = rng.random(len(legacy)) < 0.6  # old numbers had a 3-digit middle part
            out.mid[legacy] = np.where(
                three, rng.integers(200, 1000, len(legacy)), rng.integers(2000, 10000, len(legacy))
            )
            out.mid_len[legacy] = np.where(three, 3, 4)
            out.last[legacy] = rng.integers(0, 10000, len(legacy))
        out.layout[codes == d.ZERO_LOST] = PH_NO_ZERO
        out.layout[(codes != d.ZERO_LOST) & (out.layout == PH_NO_ZERO)] = PH_DASH
        return out


# ---------------------------------------------------------------- e-mail
LOWER, CAPITALIZED, UPPER = 0, 1, 2


@dataclass
class Emails(Arrays):
    local: np.ndarray  # index into Pools.user_names
    suffix: np.ndarray  # digits appended to the local part, -1 for none
    domain: np.ndarray  # index into DOMAIN_NAMES
    case: np.ndarray
    variant: np.ndarray  # which typo / placeholder / missing-@ spelling
    defect: np.ndarray

    def local_part(self, users: np.ndarray, sl: Index) -> np.ndarray:
        suffix = self.suffix[sl]
        return cat(users[self.local[sl]], where(suffix >= 0, digits(np.maximum(suffix, 0)), ""))

    def render(self, users: np.ndarray, sl: Index) -> np.ndarray:
        local = self.local_part(users, sl)
        domain = DOMAIN_NAMES[self.domain[sl]]
        codes = self.defect[sl]
        variant = self.variant[sl].astype(np.int64)
        typo = codes == d.TYPO_DOMAIN
        domain[typo] = TYPO_TABLE[self.domain[sl][typo] * _TYPO_WIDTH + variant[typo] % _TYPO_WIDTH]
        case = self.case[sl]
        cap = case == CAPITALIZED
        local[cap] = np.strings.capitalize(local[cap])
        domain[cap] = np.strings.capitalize(domain[cap])
        at = np.full(len(local), "@", dtype=S)
        no_at = codes == d.NO_AT
        at[no_at] = np.array([".", "", "＠"], dtype=S)[variant[no_at] % 3]
        out = cat(local, at, domain)
        up = case == UPPER
        out[up] = np.strings.upper(out[up])
        placeholder = codes == d.PLACEHOLDER
        out[placeholder] = PLACEHOLDERS[variant[placeholder] % len(PLACEHOLDERS)]
        out[codes == d.MISSING] = ""
        return out

    def spoil(
        self, rng: np.random.Generator, mixed_case: float, defects: dict[int, float]
    ) -> Emails:
        out = self.copy()
        n = len(out)
        out.case = np.where(
            rng.random(n) < mixed_case,
            rng.choice(np.array([CAPITALIZED, UPPER], dtype=np.int8), n, p=[0.8, 0.2]),
            LOWER,
        ).astype(np.int8)
        out.variant = rng.integers(0, 12, n).astype(np.int8)
        codes = d.draw(rng, n, defects)
        codes[out.defect == d.MISSING] = d.MISSING
        out.defect = codes
        return out


# ---------------------------------------------------------------- postal codes
@dataclass
class Postcodes(Arrays):
    value: np.ndarray  # 5-digit code
    legacy: np.ndarray  # the pre-2015 6-digit code of the same place
    defect: np.ndarray

    def render(self, sl: Index) -> np.ndarray:
        codes = self.defect[sl]
        out = digits(self.value[sl], 5)
        legacy = codes == d.LEGACY_POSTCODE
        old = self.legacy[sl][legacy]
        out[legacy] = cat(digits(old // 1000, 3), "-", digits(old % 1000, 3))
        lost = codes == d.ZERO_LOST
        out[lost] = digits(self.value[sl][lost])
        out[codes == d.MISSING] = ""
        return out

    def spoil(self, rng: np.random.Generator, defects: dict[int, float]) -> Postcodes:
        out = self.copy()
        codes = d.draw(rng, len(out), defects)
        # only codes starting with 0 (Seoul) can lose a leading zero
        codes[(codes == d.ZERO_LOST) & (out.value >= 10_000)] = d.OK
        codes[out.defect == d.MISSING] = d.MISSING
        out.defect = codes
        return out


# ---------------------------------------------------------------- addresses
DETAIL_NONE, DETAIL_APT, DETAIL_VILLA, DETAIL_FLOOR, DETAIL_ROOM = range(5)


@dataclass
class Addresses(Arrays):
    region: np.ndarray
    district: np.ndarray  # index into Pools.district_names
    road: np.ndarray
    bldg: np.ndarray
    bldg_sub: np.ndarray  # 0 for none
    detail_kind: np.ndarray
    detail_a: np.ndarray  # apartment block (동) / villa name
    detail_b: np.ndarray  # unit (호) or floor
    short: np.ndarray  # region written abbreviated (서울 for 서울특별시)
    defect: np.ndarray

    def render(self, pools: Pools, sl: Index) -> np.ndarray:
        region = where(
            self.short[sl], pools.region_short[self.region[sl]], pools.region_full[self.region[sl]]
        )
        district = pools.district_names[self.district[sl]]
        district = where(np.strings.str_len(district) > 0, cat(district, " "), "")
        sub = self.bldg_sub[sl]
        number = cat(digits(self.bldg[sl]), where(sub > 0, cat("-", digits(sub)), ""))
        out = cat(region, " ", district, pools.roads[self.road[sl]], " ", number)
        out[self.defect[sl] == d.MISSING] = ""
        return out

    def render_detail(self, sl: Index) -> np.ndarray:
        kind = self.detail_kind[sl]
        a = self.detail_a[sl]
        b = digits(self.detail_b[sl])
        out = empty(len(kind))
        apt = kind == DETAIL_APT
        out[apt] = cat(
            BRANDS[a[apt] % len(BRANDS)], " ", digits(101 + a[apt] % 30), "동 ", b[apt], "호"
        )
        villa = kind == DETAIL_VILLA
        out[villa] = cat(VILLAS[a[villa] % len(VILLAS)], "빌라 ", b[villa], "호")
        floor = kind == DETAIL_FLOOR
        out[floor] = cat(digits(self.detail_b[sl][floor] // 100), "층")
        room = kind == DETAIL_ROOM
        out[room] = cat(b[room], "호")
        out[self.defect[sl] == d.MISSING] = ""
        return out


def new_addresses(rng: np.random.Generator, pools: Pools, n: int) -> tuple[Addresses, Postcodes]:
    """Fresh places: region by population share, postal code inside the region's range."""
    region = rng.choice(len(pools.region_weights), n, p=pools.region_weights).astype(np.int16)
    district = pools.district_offsets[region] + (
        rng.random(n) * pools.district_counts[region]
    ).astype(np.int32)
    kind = rng.choice(5, n, p=[0.15, 0.55, 0.15, 0.05, 0.10]).astype(np.int8)
    floor = rng.integers(1, 26, n)
    addresses = Addresses(
        region=region,
        district=district.astype(np.int32),
        road=rng.integers(0, len(pools.roads), n).astype(np.int32),
        bldg=np.minimum(rng.geometric(0.01, n), 999).astype(np.int32),
        bldg_sub=np.where(rng.random(n) < 0.25, rng.integers(1, 60, n), 0).astype(np.int32),
        detail_kind=kind,
        detail_a=rng.integers(0, 480, n).astype(np.int32),
        detail_b=(floor * 100 + rng.integers(1, 7, n)).astype(np.int32),
        short=np.zeros(n, dtype=bool),
        defect=np.zeros(n, dtype=np.int8),
    )
    lo = np.array([r.postal_lo for r in REGIONS])[region]
    hi = np.array([r.postal_hi for r in REGIONS])[region]
    first = np.array([r.legacy_digit for r in REGIONS])[region]
    value = (lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)) * 1000 + rng.integers(
        0, 1000, n
    )
    postcodes = Postcodes(
        value=value.astype(np.int32),
        legacy=(first * 100_000 + rng.integers(0, 100_000, n)).astype(np.int32),
        defect=np.zeros(n, dtype=np.int8),
    )
    return addresses, postcodes
