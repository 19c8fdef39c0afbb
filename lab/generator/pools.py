"""Small pools of Korean names, places and products, sampled later with numpy.

Faker (ko_KR) is slow per call, so it only fills pools of a few thousand entries; the generator
then draws indices into these pools. Its address provider mixes cities and districts at random
("경상북도 강남구"), so regions, districts and postal ranges come from the static tables below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker

S = np.dtypes.StringDType()


@dataclass(frozen=True)
class Region:
    full: str  # official 시/도 name
    short: str  # how staff abbreviate it
    area_code: str  # landline prefix
    postal_lo: int  # first two digits of its 5-digit postal codes
    postal_hi: int
    legacy_digit: int  # first digit of its pre-2015 6-digit postal codes
    weight: float  # share of population (%)
    districts: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region(
        "서울특별시",
        "서울",
        "02",
        1,
        8,
        1,
        18.6,
        (
            "강남구",
            "강동구",
            "강북구",
            "강서구",
            "관악구",
            "광진구",
            "구로구",
            "금천구",
            "노원구",
            "도봉구",
            "동대문구",
            "동작구",
            "마포구",
            "서대문구",
            "서초구",
            "성동구",
            "성북구",
            "송파구",
            "양천구",
            "영등포구",
            "용산구",
            "은평구",
            "종로구",
            "중구",
            "중랑구",
        ),
    ),
    Region(
        "부산광역시",
        "부산",
        "051",
        46,
        49,
        6,
        6.5,
        (
            "해운대구",
            "부산진구",
            "동래구",
            "남구",
            "북구",
            "사하구",
            "수영구",
            "연제구",
            "금정구",
            "기장군",
        ),
    ),
    Region(
        "대구광역시",
        "대구",
        "053",
        41,
        43,
        7,
        4.6,
        ("수성구", "달서구", "북구", "중구", "동구", "달성군"),
    ),
    Region(
        "인천광역시",
        "인천",
        "032",
        21,
        23,
        4,
        5.7,
        ("남동구", "부평구", "연수구", "서구", "계양구", "미추홀구"),
    ),
    Region("광주광역시", "광주", "062", 61, 62, 5, 2.8, ("북구", "광산구", "서구", "남구", "동구")),
    Region(
        "대전광역시", "대전", "042", 34, 35, 3, 2.8, ("유성구", "서구", "중구", "대덕구", "동구")
    ),
    Region("울산광역시", "울산", "052", 44, 45, 6, 2.2, ("남구", "중구", "울주군", "북구", "동구")),
    Region("세종특별자치시", "세종", "044", 30, 30, 3, 0.7, ("",)),
    Region(
        "경기도",
        "경기",
        "031",
        10,
        18,
        4,
        26.5,
        (
            "수원시 영통구",
            "수원시 팔달구",
            "성남시 분당구",
            "고양시 일산동구",
            "용인시 수지구",
            "부천시",
            "안산시 단원구",
            "안양시 동안구",
            "화성시",
            "남양주시",
            "평택시",
            "의정부시",
            "파주시",
            "시흥시",
            "김포시",
            "광명시",
            "하남시",
        ),
    ),
    Region(
        "강원특별자치도", "강원", "033", 24, 26, 2, 3.0, ("춘천시", "원주시", "강릉시", "속초시")
    ),
    Region(
        "충청북도",
        "충북",
        "043",
        27,
        29,
        3,
        3.1,
        ("청주시 상당구", "청주시 흥덕구", "충주시", "제천시"),
    ),
    Region(
        "충청남도",
        "충남",
        "041",
        31,
        33,
        3,
        4.1,
        ("천안시 서북구", "천안시 동남구", "아산시", "서산시", "당진시", "공주시"),
    ),
    Region(
        "전북특별자치도",
        "전북",
        "063",
        54,
        56,
        5,
        3.4,
        ("전주시 완산구", "전주시 덕진구", "익산시", "군산시"),
    ),
    Region(
        "전라남도",
        "전남",
        "061",
        57,
        60,
        5,
        3.5,
        ("목포시", "여수시", "순천시", "광양시", "나주시"),
    ),
    Region(
        "경상북도",
        "경북",
        "054",
        36,
        40,
        7,
        5.0,
        ("포항시 남구", "포항시 북구", "구미시", "경주시", "안동시", "경산시"),
    ),
    Region(
        "경상남도",
        "경남",
        "055",
        50,
        53,
        6,
        6.4,
        ("창원시 성산구", "창원시 의창구", "김해시", "양산시", "진주시", "거제시"),
    ),
    Region("제주특별자치도", "제주", "064", 63, 63, 6, 1.3, ("제주시", "서귀포시")),
)

# Road-name stems found all over the country; Faker only knows a few Gangnam roads.
ROAD_STEMS = (
    "중앙",
    "시청",
    "대학",
    "역전",
    "문화",
    "번영",
    "충장",
    "중부대",
    "평화",
    "희망",
    "새마을",
    "공원",
    "시장",
    "동문",
    "서문",
    "남문",
    "북문",
    "신촌",
    "광장",
    "한강",
    "강변",
    "해안",
    "산업",
    "청사",
    "월드컵",
    "올림픽",
    "경인",
    "경수대",
    "구월",
    "둔산",
    "상무",
    "수성",
    "동성",
    "금강",
    "백제",
    "가야",
    "태평",
    "계림",
    "봉화",
    "삼일",
    "무궁화",
    "진달래",
)
ROAD_SUFFIXES = ("로", "길", "대로")

APARTMENT_BRANDS = (
    "래미안",
    "자이",
    "힐스테이트",
    "푸르지오",
    "e편한세상",
    "아이파크",
    "롯데캐슬",
    "더샵",
    "센트레빌",
    "주공",
    "현대",
    "삼성",
    "우성",
    "한신",
    "쌍용",
    "벽산",
)
VILLA_NAMES = ("그린", "행복", "하나", "청솔", "목련", "은하", "대림", "한빛", "동아", "성원")

# Mobile and landline prefixes; index 0 is the only mobile prefix in service since 2021.
MOBILE = "010"
LEGACY_MOBILE = ("011", "016", "017", "018", "019")
INTERNET_PHONE = "070"
PHONE_PREFIXES: tuple[str, ...] = (
    MOBILE,
    *LEGACY_MOBILE,
    INTERNET_PHONE,
    *dict.fromkeys(r.area_code for r in REGIONS),
)
PREFIX_INDEX: dict[str, int] = {p: i for i, p in enumerate(PHONE_PREFIXES)}

EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("naver.com", 0.38),
    ("gmail.com", 0.20),
    ("daum.net", 0.09),
    ("hanmail.net", 0.10),
    ("nate.com", 0.07),
    ("kakao.com", 0.05),
    ("hotmail.com", 0.03),
    ("icloud.com", 0.03),
    ("yahoo.co.kr", 0.02),
    ("outlook.com", 0.03),
)
# Mistyped domains staff and customers really produce; none of them accepts mail.
TYPO_DOMAINS: dict[str, tuple[str, ...]] = {
    "naver.com": ("naver.con", "navr.com", "naver.co", "naver.cm"),
    "gmail.com": ("gmial.com", "gmail.co", "gamil.com", "gmail.con"),
    "daum.net": ("daum.ent", "duam.net", "daum.nt"),
    "hanmail.net": ("hanmial.net", "hanmail.ent", "hanmail.com"),
    "nate.com": ("nate.con", "ntae.com"),
    "kakao.com": ("kakao.co", "kakoa.com"),
    "hotmail.com": ("hotmial.com", "hotmail.con"),
    "icloud.com": ("icloud.co", "iclod.com"),
    "yahoo.co.kr": ("yaho.co.kr", "yahoo.co.rk"),
    "outlook.com": ("outlok.com", "outlook.con"),
}
EMAIL_PLACEHOLDERS = ("없음", "-", "x", "모름")

PRODUCT_CATEGORIES: dict[str, tuple[tuple[str, ...], int, int]] = {
    # category: (nouns, min price, max price) in KRW
    "건강식품": (
        (
            "홍삼정",
            "비타민C",
            "오메가3",
            "유산균",
            "루테인",
            "콜라겐",
            "프로폴리스",
            "흑마늘즙",
            "녹용진액",
        ),
        20_000,
        180_000,
    ),
    "화장품": (
        ("수분크림", "선크림", "에센스", "클렌징폼", "토너", "마스크팩 세트", "아이크림"),
        10_000,
        90_000,
    ),
    "주방용품": (
        ("프라이팬", "냄비 세트", "밀폐용기 세트", "도마", "칼 세트", "텀블러", "전골냄비"),
        10_000,
        220_000,
    ),
    "생활용품": (
        ("수건 세트", "샴푸", "바디워시", "세탁세제", "치약 세트", "물티슈", "섬유유연제"),
        5_000,
        45_000,
    ),
    "가전": (
        ("공기청정기", "전기밥솥", "무선청소기", "블렌더", "가습기", "안마기", "제습기"),
        50_000,
        900_000,
    ),
    "의류": (
        ("기능성 티셔츠", "등산 재킷", "양말 세트", "내의 세트", "패딩 조끼", "트레이닝복"),
        10_000,
        250_000,
    ),
    "식품": (
        ("한우 선물세트", "김 선물세트", "참기름", "벌꿀", "견과류 세트", "포기김치", "굴비 세트"),
        10_000,
        300_000,
    ),
}
PRODUCT_MODIFIERS = (
    "프리미엄",
    "국내산",
    "유기농",
    "데일리",
    "명품",
    "스마트",
    "베이직",
    "순수",
    "골드",
    "에코",
    "",
)
PRODUCT_SIZES = ("", "", "대용량", "1+1", "3종", "5입", "특대", "소형", "2세트")


@dataclass(frozen=True)
class Pools:
    surnames: np.ndarray  # StringDType, weighted by Faker's surname frequencies
    given_male: np.ndarray
    given_female: np.ndarray
    user_names: np.ndarray  # romanised name-like login / e-mail local parts
    companies: np.ndarray
    roads: np.ndarray
    region_full: np.ndarray  # per region
    region_short: np.ndarray
    region_weights: np.ndarray
    district_names: np.ndarray  # flattened districts, "" for 세종
    district_region: np.ndarray  # region index of each district
    district_offsets: np.ndarray  # first district index of each region
    district_counts: np.ndarray


def _given_names(fake_names: list[str], rng: np.random.Generator, size: int) -> list[str]:
    """Real Faker given names plus recombined syllables: Faker knows only ~60 per gender."""
    real = list(dict.fromkeys(n for n in fake_names if len(n) == 2))
    firsts = list(dict.fromkeys(n[0] for n in real))
    seconds = list(dict.fromkeys(n[1] for n in real))
    combos = [a + b for a in firsts for b in seconds if a != b]
    picked = rng.choice(len(combos), size=min(size, len(combos)), replace=False)
    return list(dict.fromkeys(real + [combos[i] for i in sorted(picked.tolist())]))


def build_pools(seed: int) -> Pools:
    fake = Faker("ko_KR")
    fake.seed_instance(seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7001]))
    surnames = [fake.last_name() for _ in range(4000)]
    male = _given_names([fake.first_name_male() for _ in range(3000)], rng, 900)
    female = _given_names([fake.first_name_female() for _ in range(3000)], rng, 900)
    users = [u for u in (fake.user_name() for _ in range(6000)) if len(u) >= 4]
    users = list(dict.fromkeys(u.lower() for u in users if u.isascii() and u.isalnum()))
    companies = list(dict.fromkeys(fake.company().replace(",", "") for _ in range(600)))
    stems = list(dict.fromkeys([fake.road_name() for _ in range(300)] + list(ROAD_STEMS)))
    roads: list[str] = []
    for stem in stems:
        # "영동대" + "대로" would read 영동대대로; such stems take only 로/길
        roads += [
            stem + sfx for sfx in ROAD_SUFFIXES if not (stem.endswith("대") and sfx == "대로")
        ]
        roads += [f"{stem}로{n}길" for n in (rng.choice(80, 2, replace=False) + 1).tolist()]
    districts: list[str] = []
    district_region: list[int] = []
    offsets: list[int] = []
    for i, region in enumerate(REGIONS):
        offsets.append(len(districts))
        districts += list(region.districts)
        district_region += [i] * len(region.districts)
    weights = np.array([r.weight for r in REGIONS])
    return Pools(
        surnames=np.array(surnames, dtype=S),
        given_male=np.array(male, dtype=S),
        given_female=np.array(female, dtype=S),
        user_names=np.array(users, dtype=S),
        companies=np.array(companies, dtype=S),
        roads=np.array(roads, dtype=S),
        region_full=np.array([r.full for r in REGIONS], dtype=S),
        region_short=np.array([r.short for r in REGIONS], dtype=S),
        region_weights=weights / weights.sum(),
        district_names=np.array(districts, dtype=S),
        district_region=np.array(district_region, dtype=np.int16),
        district_offsets=np.array(offsets, dtype=np.int32),
        district_counts=np.array([len(r.districts) for r in REGIONS], dtype=np.int32),
    )
