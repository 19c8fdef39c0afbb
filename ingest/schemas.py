"""The contract between source systems and the raw layer.

One `EntitySpec` per source entity: which file pattern or table it comes from, the columns in the
order the source delivers them, and the kind of each column. The generator writes exactly these
columns; the loaders check every delivered row against them and quarantine what does not fit.
Raw tables keep the source's own column names (Korean for the ERP) and store values as text,
exactly as delivered; dbt staging renames and casts.

This file is the one statement of the raw contract. What else needs it reads it from here: the
dbt sources (`dbt_project/models/staging/_sources.yml`, written by `python -m ingest.contract
--write`), the key rules of the loaders and the Great Expectations suites (`key_value_sql`,
`EntitySpec.key_rules`), the columns erasure looks a person up by, lists and scrubs and the
personal-data gate's raw column names (`identifies`, `shared`, `personal`), and the freshness
each source system is held to (`SourceSystem`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "date", "timestamp", "int", "decimal", "rrn"]
Format = Literal["csv", "jsonl", "sql"]
# What kind of value a column names a person by: the erasure list holds a token per kind and
# value. `contact` is an e-mail or a phone in one column (an ESP recipient).
IdentifierKind = Literal["erp_customer", "shop_member", "rrn", "phone", "email", "contact"]
KeyRuleKind = Literal["not_null", "unique"]


@dataclass(frozen=True)
class Freshness:
    """How old the newest load of a source may be before dbt source freshness warns or errors."""

    warn_after_hours: int
    error_after_hours: int


@dataclass(frozen=True)
class SourceSystem:
    name: str  # erp | shop | callcenter | esp: the dbt source name and the raw tables' prefix
    description: str
    freshness: Freshness
    # Load time (the loaders' metadata column), not a business date: a quiet day is not stale.
    loaded_at_field: str = "_loaded_at"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = False  # a missing value quarantines the row
    key: bool = False  # part of the source record's natural key (implies required)
    description: str = ""
    # Names a person (see IdentifierKind): erasure looks the person's rows up by it and the
    # loaders check it against the erasure list.
    identifies: IdentifierKind | None = None
    # With `identifies`: a value several people may share (a household's home phone, an office
    # fax). Erasure scrubs it from the person's records but neither lists it nor looks anyone up
    # by it: that would hold back other people's records.
    shared: bool = False
    # Holds a personal value that alone does not single out a person (a name, an address, a
    # birth date, a free-text note about them): shown masked, never published to BI tools,
    # emptied when erasure anonymises a row it keeps.
    personal: bool = False
    # An id of another entity's record (an order item's order): like a key, an identifier
    # bounded by its type, never an amount a plausibility bound applies to.
    refers_to: str = ""

    @property
    def must_have_value(self) -> bool:
        return self.required or self.key

    @property
    def is_identifier(self) -> bool:
        """A record's id (its key, a person's record, another record's): a bigint, never summed."""
        return self.key or self.identifies is not None or bool(self.refers_to)

    @property
    def holds_personal_data(self) -> bool:
        """A person's own data; a record key (erp_customer, shop_member) only points at a
        record, and is no more personal than the customer id the marts carry."""
        return self.personal or self.identifies in ("rrn", "phone", "email", "contact")


@dataclass(frozen=True)
class KeyRule:
    """One rule a delivery's keys obey: every key column has a value (`not_null`); a one-column
    key is not repeated within a delivery (`unique`), unless the source repeats records."""

    kind: KeyRuleKind
    column: str


def key_value_sql(column_sql: str) -> str:
    """A key value as the contract reads it: trimmed, and blank is missing. The loaders' missing
    key check and the Great Expectations key rules read keys through it, so they agree."""
    return f"nullif(trim({column_sql}), '')"


@dataclass(frozen=True)
class EntitySpec:
    source: str  # erp | shop | callcenter | esp
    entity: str  # customers, orders, ...
    format: Format
    columns: tuple[Column, ...]
    description: str
    encoding: str = "utf-8"
    # files: glob under the landing folder; sql: the table name in the shop database
    location: str = ""
    # sql sources: column holding the last-modified time (the watermark)
    watermark_column: str | None = None
    # The source delivers the same record more than once (webhook retries): a repeated key in a
    # delivery is expected, staging keeps one.
    repeats_records: bool = False

    @property
    def name(self) -> str:
        return f"{self.source}_{self.entity}"

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def key_rules(self) -> tuple[KeyRule, ...]:
        rules = [KeyRule("not_null", self.stored_name(c)) for c in self.columns if c.key]
        if len(rules) == 1 and not self.repeats_records:
            rules.append(KeyRule("unique", rules[0].column))
        return tuple(rules)

    @property
    def identifying_columns(self) -> tuple[tuple[str, IdentifierKind], ...]:
        """(stored column name, kind) of the columns that name one person."""
        return tuple(
            (self.stored_name(c), c.identifies)
            for c in self.columns
            if c.identifies is not None and not c.shared
        )

    def stored_name(self, column: Column) -> str:
        """Name of the column in the raw table: an RRN column is stored only as its hash."""
        return f"{column.name}_해시" if column.kind == "rrn" else column.name


def _c(
    name: str,
    kind: Kind = "text",
    *,
    required: bool = False,
    key: bool = False,
    description: str = "",
    identifies: IdentifierKind | None = None,
    shared: bool = False,
    personal: bool = False,
    refers_to: str = "",
) -> Column:
    return Column(name, kind, required, key, description, identifies, shared, personal, refers_to)


ERP_CUSTOMERS = EntitySpec(
    source="erp",
    entity="customers",
    format="csv",
    encoding="cp949",
    location="erp/erp_customers_*.csv",
    description="ERP customer master (거래처/고객), full snapshot per daily drop.",
    columns=(
        _c("고객번호", key=True, description="ERP customer number", identifies="erp_customer"),
        _c("고객명", description="customer name as typed by staff", personal=True),
        _c(
            "주민등록번호",
            "rrn",
            description="legacy resident registration number column; hashed at load",
            identifies="rrn",
        ),
        _c("휴대폰", description="mobile phone, any format", identifies="phone"),
        _c("자택전화", description="home phone", identifies="phone", shared=True),
        _c("직장전화", description="work phone", identifies="phone", shared=True),
        _c("팩스", description="fax", identifies="phone", shared=True),
        _c("이메일", description="email address", identifies="email"),
        _c("우편번호", description="postal code, 5-digit or legacy 6-digit", personal=True),
        _c("주소", description="address", personal=True),
        _c("상세주소", description="address detail", personal=True),
        _c("고객등급", description="customer grade (VIP/골드/실버/일반)"),
        _c("생년월일", "date", description="date of birth", personal=True),
        _c("가입일", "date", required=True, description="registration date"),
        _c("비고", description="free-text memo", personal=True),
        _c("수정일시", "timestamp", required=True, description="last modified in the ERP"),
    ),
)

ERP_PRODUCTS = EntitySpec(
    source="erp",
    entity="products",
    format="csv",
    encoding="cp949",
    location="erp/erp_products_*.csv",
    description="ERP product master, full snapshot per daily drop.",
    columns=(
        _c("상품코드", key=True, description="product code"),
        _c("상품명", required=True, description="product name"),
        _c("카테고리", description="product category"),
        _c("판매가", "decimal", required=True, description="list price"),
        _c("원가", "decimal", description="unit cost"),
        _c("사용여부", description="Y when the product is active"),
        _c(
            "품목구분",
            description="item type: 상품 (merchandise), 배송비 (shipping), 수수료 (fee), "
            "할인 (discount), 조정 (adjustment), 기부금 (donation)",
        ),
    ),
)

ERP_ORDERS = EntitySpec(
    source="erp",
    entity="orders",
    format="csv",
    encoding="cp949",
    location="erp/erp_orders_*.csv",
    description="ERP order headers (store, TV home shopping, B2B), daily increment.",
    columns=(
        _c("주문번호", key=True, description="order number"),
        _c("고객번호", required=True, description="ERP customer number", identifies="erp_customer"),
        _c("주문일자", "date", required=True, description="order date"),
        _c("판매채널", description="매장 / TV홈쇼핑 / B2B"),
        _c("주문상태", description="정상 (sale) / 취소 (cancelled) / 반품 (return or credit note)"),
        _c(
            "총금액",
            "decimal",
            required=True,
            description="document total (negative on a 반품 slip)",
        ),
        _c("원주문번호", description="the order a 반품 slip reverses; empty when not recorded"),
    ),
)

ERP_ORDER_LINES = EntitySpec(
    source="erp",
    entity="order_lines",
    format="csv",
    encoding="cp949",
    location="erp/erp_order_lines_*.csv",
    description="ERP order lines, daily increment.",
    columns=(
        _c("주문번호", key=True, description="order number"),
        _c("행번호", "int", key=True, description="line number within the order"),
        _c("상품코드", required=True, description="product code"),
        _c("수량", "int", required=True, description="quantity (negative on return lines)"),
        _c("단가", "decimal", required=True, description="unit price"),
        _c("금액", "decimal", required=True, description="line amount"),
        _c("원행번호", "int", description="line of the original order a return line takes back"),
    ),
)

SHOP_MEMBERS = EntitySpec(
    source="shop",
    entity="members",
    format="sql",
    location="members",
    watermark_column="updated_at",
    description="Online shop members.",
    columns=(
        _c("member_id", "int", key=True, description="shop member id", identifies="shop_member"),
        _c("login_id", description="login name"),
        _c("name", description="member name", personal=True),
        _c("mobile", description="mobile phone", identifies="phone"),
        _c("email", description="email address", identifies="email"),
        _c("birth_date", "date", description="date of birth", personal=True),
        _c("zipcode", description="postal code", personal=True),
        _c("address1", description="address", personal=True),
        _c("address2", description="address detail", personal=True),
        _c("grade", description="membership grade"),
        _c(
            "joined_at",
            "timestamp",
            description="sign-up time; empty when the shop's export has none (Shopify's)",
        ),
        _c("updated_at", "timestamp", required=True, description="last modified"),
    ),
)

SHOP_ORDERS = EntitySpec(
    source="shop",
    entity="orders",
    format="sql",
    location="orders",
    watermark_column="updated_at",
    description="Online shop orders, member and guest (비회원) orders alike.",
    columns=(
        _c("order_id", "int", key=True, description="shop order id"),
        _c(
            "member_id",
            "int",
            description="ordering member; empty for a guest order (비회원 주문)",
            identifies="shop_member",
        ),
        _c("orderer_name", description="buyer's name as entered at checkout", personal=True),
        _c(
            "orderer_mobile",
            description="buyer's mobile as entered at checkout",
            identifies="phone",
        ),
        _c(
            "orderer_email", description="buyer's e-mail as entered at checkout", identifies="email"
        ),
        _c("ordered_at", "timestamp", required=True, description="order time"),
        _c("paid_at", "timestamp", description="payment time; empty while unpaid"),
        _c(
            "status",
            required=True,
            description="pending_payment / paid / preparing / shipped / delivered / confirmed / "
            "cancelled / returned / exchanged",
        ),
        _c(
            "total_amount",
            "decimal",
            required=True,
            description="amount charged: items + shipping fee - discount",
        ),
        _c("shipping_fee", "decimal", description="shipping fee charged on the order"),
        _c("discount_amount", "decimal", description="coupon and point discount on the order"),
        _c(
            "original_order_id",
            "int",
            description="for a credit note (negative quantities): the order it reverses",
            refers_to="shop_orders",
        ),
        _c("updated_at", "timestamp", required=True, description="last modified"),
    ),
)

SHOP_ORDER_ITEMS = EntitySpec(
    source="shop",
    entity="order_items",
    format="sql",
    location="order_items",
    watermark_column="updated_at",
    description="Online shop order items.",
    columns=(
        _c("order_item_id", "int", key=True, description="order item id"),
        _c("order_id", "int", required=True, description="order", refers_to="shop_orders"),
        _c("product_code", required=True, description="product code (shared with the ERP)"),
        _c("quantity", "int", required=True, description="quantity (negative on a credit note)"),
        _c("unit_price", "decimal", required=True, description="unit price"),
        _c("updated_at", "timestamp", required=True, description="last modified"),
    ),
)

SHOP_CLAIMS = EntitySpec(
    source="shop",
    entity="claims",
    format="sql",
    location="claims",
    watermark_column="updated_at",
    description="Claims on shop orders (클레임): cancellations, returns and exchanges.",
    columns=(
        _c("claim_id", "int", key=True, description="claim id"),
        _c(
            "order_id",
            "int",
            required=True,
            description="the order claimed",
            refers_to="shop_orders",
        ),
        _c(
            "claim_type",
            required=True,
            description="cancel (취소) / return (반품) / exchange (교환)",
        ),
        _c(
            "claim_status",
            required=True,
            description="requested / completed / withdrawn / rejected; only completed claims "
            "change money",
        ),
        _c("requested_at", "timestamp", required=True, description="claim received"),
        _c("completed_at", "timestamp", description="claim completed (refund made)"),
        _c("refund_amount", "decimal", description="amount refunded to the buyer"),
        _c("updated_at", "timestamp", required=True, description="last modified"),
    ),
)

SHOP_CLAIM_ITEMS = EntitySpec(
    source="shop",
    entity="claim_items",
    format="sql",
    location="claim_items",
    watermark_column="updated_at",
    description="Order items and quantities a claim covers.",
    columns=(
        _c("claim_item_id", "int", key=True, description="claim item id"),
        _c("claim_id", "int", required=True, description="claim", refers_to="shop_claims"),
        _c(
            "order_item_id",
            "int",
            required=True,
            description="order item claimed",
            refers_to="shop_order_items",
        ),
        _c("quantity", "int", required=True, description="units cancelled, returned or exchanged"),
        _c("updated_at", "timestamp", required=True, description="last modified"),
    ),
)

SHOP_MARKETING_CONSENTS = EntitySpec(
    source="shop",
    entity="marketing_consents",
    format="sql",
    location="marketing_consents",
    watermark_column="updated_at",
    description="Marketing consent per member and channel (email, sms).",
    columns=(
        _c("member_id", "int", key=True, description="member", identifies="shop_member"),
        _c("channel", key=True, description="email / sms"),
        _c("consented", "int", required=True, description="1 consented, 0 refused (수신거부)"),
        _c("updated_at", "timestamp", required=True, description="last modified"),
    ),
)

CALLCENTER_CALLS = EntitySpec(
    source="callcenter",
    entity="calls",
    format="jsonl",
    location="callcenter/calls_*.jsonl",
    description="CTI call records, one JSON object per line.",
    columns=(
        _c("call_id", key=True, description="CTI call id"),
        _c("started_at", "timestamp", required=True, description="call start"),
        _c("direction", required=True, description="inbound / outbound"),
        _c("caller_number", description="customer's number as the CTI saw it", identifies="phone"),
        _c("customer_name", description="name the agent typed", personal=True),
        _c("category", description="문의 / 불만 / 반품 / 해지"),
        _c("duration_sec", "int", description="talk time in seconds"),
        _c("agent_id", description="agent"),
        _c("satisfaction", "int", description="post-call survey 1-5"),
        _c("memo", description="agent note", personal=True),
    ),
)

CALLCENTER_TICKETS = EntitySpec(
    source="callcenter",
    entity="tickets",
    format="csv",
    location="callcenter/tickets_*.csv",
    description="Service tickets exported from the CRM, UTF-8 CSV.",
    columns=(
        _c("ticket_id", key=True, description="ticket id"),
        _c("call_id", description="call that opened the ticket"),
        _c("caller_number", description="customer's number", identifies="phone"),
        _c("category", description="문의 / 불만 / 반품 / 해지"),
        _c("status", required=True, description="received / assigned / resolved"),
        _c("received_at", "timestamp", required=True, description="received"),
        _c("assigned_at", "timestamp", description="assigned to an agent"),
        _c("resolved_at", "timestamp", description="resolved"),
        _c("agent_id", description="agent"),
    ),
)

ESP_CAMPAIGNS = EntitySpec(
    source="esp",
    entity="campaigns",
    format="jsonl",
    location="esp/campaigns_*.jsonl",
    description="Email/SMS campaigns as the ESP lists them.",
    columns=(
        _c("campaign_id", key=True, description="ESP campaign id"),
        _c("name", required=True, description="campaign name"),
        _c("channel", required=True, description="email / sms"),
        _c("subject", description="subject line"),
        _c("sender", description="sender name/address"),
        _c("wave", "int", description="1 for the first send, 2-3 for re-sends"),
        _c("parent_campaign_id", description="first wave's campaign id for re-sends"),
        _c("scheduled_at", "timestamp", required=True, description="send time"),
    ),
)

ESP_EVENTS = EntitySpec(
    source="esp",
    entity="events",
    format="jsonl",
    location="esp/events_*.jsonl",
    description="ESP webhook event dump: one event per line, duplicates and late events included.",
    repeats_records=True,
    columns=(
        _c("event_id", key=True, description="ESP event id"),
        _c("campaign_id", required=True, description="campaign"),
        _c(
            "recipient",
            required=True,
            description="email address (or phone for SMS)",
            identifies="contact",
        ),
        _c(
            "event_type",
            required=True,
            description="sent, delivered, soft_bounce, ... (seed esp_event_types)",
        ),
        _c("occurred_at", "timestamp", required=True, description="when the event happened"),
        _c("url", description="clicked link"),
        _c("reason", description="bounce/failure reason"),
    ),
)

ENTITIES: tuple[EntitySpec, ...] = (
    ERP_CUSTOMERS,
    ERP_PRODUCTS,
    ERP_ORDERS,
    ERP_ORDER_LINES,
    SHOP_MEMBERS,
    SHOP_ORDERS,
    SHOP_ORDER_ITEMS,
    SHOP_CLAIMS,
    SHOP_CLAIM_ITEMS,
    SHOP_MARKETING_CONSENTS,
    CALLCENTER_CALLS,
    CALLCENTER_TICKETS,
    ESP_CAMPAIGNS,
    ESP_EVENTS,
)

BY_NAME: dict[str, EntitySpec] = {spec.name: spec for spec in ENTITIES}

# Every source delivers once a day: a load may be two hours late before it warns, and a day
# missed on top of that is an error.
DAILY_DELIVERY = Freshness(warn_after_hours=26, error_after_hours=50)

SYSTEMS: tuple[SourceSystem, ...] = (
    SourceSystem("erp", "ERP nightly CSV exports (CP949, Korean headers)", DAILY_DELIVERY),
    SourceSystem(
        "shop", "online shop operational database, read incrementally by updated_at", DAILY_DELIVERY
    ),
    SourceSystem(
        "callcenter",
        "call-center CTI/CRM exports (calls JSON Lines, tickets CSV)",
        DAILY_DELIVERY,
    ),
    SourceSystem(
        "esp",
        "email service provider campaigns and webhook events (JSON Lines)",
        DAILY_DELIVERY,
    ),
)
# The source systems, in the contract's order: what a deployment declares it has (GOGAEK_SOURCES).
SOURCE_SYSTEMS: tuple[str, ...] = tuple(system.name for system in SYSTEMS)
