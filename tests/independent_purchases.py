"""The documented purchase definition, computed a second time in pandas from the raw layer.

Nothing here reads a dbt model except the identity crosswalk (who is who is not under test) and
the vocabulary seeds (data, not rules). Everything else — latest versions, statuses, cancellations,
claims, credit notes, tying returns to sales, purchases per customer-day, RFM scores — is the
documented wording (docs/models.md and the models' yml descriptions) turned into pandas, so a
disagreement with the marts means one of the two misreads the definition.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _num(series: pd.Series) -> pd.Series:
    text = series.fillna("").astype(str).str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(text.replace("", np.nan))


def _latest(frame: pd.DataFrame, key: list[str], order: list[str]) -> pd.DataFrame:
    ranked = frame.sort_values(order, ascending=False, kind="stable")
    return ranked.drop_duplicates(key, keep="first")


def _raw(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    return con.execute(f"select * from raw.{table}").df()


def _erp_date(series: pd.Series) -> pd.Series:
    text = series.astype(str).str.strip().str.replace(".", "-", regex=False)
    compact = text.str.fullmatch(r"\d{8}")
    text = text.where(~compact, text.str[:4] + "-" + text.str[4:6] + "-" + text.str[6:])
    return pd.to_datetime(text, format="%Y-%m-%d")


def order_lines(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every document line in one shape (before returns are tied to sales)."""
    statuses = {(r["source"], r["source_status"]): r for r in _seed("order_statuses")}
    line_types = {r["item_type"]: r["line_type"] for r in _seed("item_types")}

    products = _latest(
        _raw(con, "erp_products").assign(code=lambda f: f["상품코드"].str.strip()),
        ["code"],
        ["_loaded_at", "_source_file", "_source_line"],
    )
    product_type = {
        row.code: line_types.get(str(row.품목구분).strip(), "merchandise")
        for row in products.itertuples()
    }

    erp_orders = _latest(
        _raw(con, "erp_orders").assign(no=lambda f: f["주문번호"].str.strip()),
        ["no"],
        ["_loaded_at", "_source_file", "_source_line"],
    )
    erp_lines = _raw(con, "erp_order_lines").assign(
        no=lambda f: f["주문번호"].str.strip(), line=lambda f: _num(f["행번호"])
    )
    erp_lines = _latest(erp_lines, ["no", "line"], ["_loaded_at", "_source_file", "_source_line"])
    header = erp_orders.set_index("no")
    erp_lines = erp_lines[erp_lines["no"].isin(header.index)]  # headerless lines are held
    status = header["주문상태"].str.strip()
    erp = pd.DataFrame(
        {
            "line_key": "erp:" + erp_lines["no"] + ":" + erp_lines["line"].astype(int).astype(str),
            "order_key": "erp:" + erp_lines["no"],
            "customer_source": "erp_customer",
            "customer_key": header.loc[erp_lines["no"], "고객번호"].str.strip().to_numpy(),
            "date": _erp_date(header.loc[erp_lines["no"], "주문일자"]).to_numpy(),
            "product": erp_lines["상품코드"].str.strip().to_numpy(),
            "quantity": _num(erp_lines["수량"]).to_numpy(),
            "amount": _num(erp_lines["금액"]).to_numpy(),
            "status": status.loc[erp_lines["no"]].to_numpy(),
            "original_line": erp_lines["원행번호"].fillna("").str.strip().to_numpy(),
            "original_no": header.loc[erp_lines["no"], "원주문번호"]
            .fillna("")
            .str.strip()
            .to_numpy(),
        }
    )
    erp["ordered_at"] = erp["date"]
    erp["is_credit_doc"] = erp["status"] == "반품"
    erp["is_paid"] = [statuses.get(("erp", s), {}).get("is_paid") == "true" for s in erp["status"]]
    erp["cancelled"] = np.where(erp["status"] == "취소", erp["quantity"], 0)
    erp["original_order"] = np.where(erp["original_no"] != "", "erp:" + erp["original_no"], None)
    erp["original_line_key"] = np.where(
        (erp["original_no"] != "") & (erp["original_line"] != ""),
        "erp:" + erp["original_no"] + ":" + erp["original_line"],
        None,
    )

    shop_orders = _raw(con, "shop_orders")
    shop_orders["updated"] = pd.to_datetime(shop_orders["updated_at"])
    shop_orders = _latest(shop_orders, ["order_id"], ["updated", "_loaded_at", "_source_line"])
    shop_orders = shop_orders.set_index(shop_orders["order_id"].str.strip())
    items = _raw(con, "shop_order_items")
    items["updated"] = pd.to_datetime(items["updated_at"])
    items = _latest(items, ["order_item_id"], ["updated", "_loaded_at", "_source_line"])
    items = items[items["order_id"].str.strip().isin(shop_orders.index)]
    claims = _raw(con, "shop_claims")
    claims["updated"] = pd.to_datetime(claims["updated_at"])
    claims = _latest(claims, ["claim_id"], ["updated", "_loaded_at", "_source_line"])
    claim_items = _raw(con, "shop_claim_items")
    claim_items["updated"] = pd.to_datetime(claim_items["updated_at"])
    claim_items = _latest(claim_items, ["claim_item_id"], ["updated", "_loaded_at", "_source_line"])
    done = claims[claims["claim_status"].str.strip().str.lower() == "completed"]
    claimed = claim_items.merge(
        done[["claim_id", "claim_type", "order_id", "completed_at"]], on="claim_id"
    )
    claimed["qty"] = _num(claimed["quantity"])

    o_status = shop_orders["status"].str.strip().str.lower()
    o_code = o_status.map(lambda s: statuses.get(("shop", s), {}).get("order_status", "unknown"))
    o_paid = (
        o_status.map(lambda s: statuses.get(("shop", s), {}).get("is_paid") == "true")
        | shop_orders["paid_at"].notna()
    )
    member = shop_orders["member_id"].fillna("").str.strip()
    o_customer_source = np.where(member == "", "shop_guest_order", "shop_member")
    o_customer_key = np.where(member == "", shop_orders.index, member)
    o_total = _num(shop_orders["total_amount"])
    o_time = pd.to_datetime(shop_orders["ordered_at"])
    orders = pd.DataFrame(
        {
            "code": o_code,
            "paid": o_paid,
            "customer_source": o_customer_source,
            "customer_key": o_customer_key,
            "credit": o_total < 0,
            "time": o_time,
            "updated": shop_orders["updated"],
            "original": shop_orders["original_order_id"].fillna("").str.strip(),
        },
        index=shop_orders.index,
    )

    items = items.assign(
        oid=items["order_id"].str.strip(),
        iid=items["order_item_id"].str.strip(),
        qty=_num(items["quantity"]),
        price=_num(items["unit_price"]),
    )
    cancels = (
        claimed[claimed["claim_type"].str.strip() == "cancel"]
        .groupby(claimed["order_item_id"].str.strip())["qty"]
        .sum()
    )
    info = orders.loc[items["oid"]]
    cancelled = np.where(
        items["qty"].to_numpy() <= 0,
        0,
        np.where(
            info["code"].to_numpy() == "cancelled",
            items["qty"],
            np.minimum(items["qty"], items["iid"].map(cancels).fillna(0)),
        ),
    )
    shop_items = pd.DataFrame(
        {
            "line_key": "shop:" + items["oid"] + ":" + items["iid"],
            "order_key": "shop:" + items["oid"],
            "customer_source": info["customer_source"].to_numpy(),
            "customer_key": info["customer_key"].to_numpy(),
            "ordered_at": info["time"].to_numpy(),
            "product": items["product_code"].str.strip().to_numpy(),
            "quantity": items["qty"].to_numpy(),
            "amount": (items["qty"] * items["price"]).to_numpy(),
            "cancelled": cancelled,
            "is_paid": info["paid"].to_numpy(),
            "is_credit_doc": info["credit"].to_numpy(),
            "original_order": np.where(
                info["original"].to_numpy() != "", "shop:" + info["original"].to_numpy(), None
            ),
            "original_line_key": None,
        }
    )
    whole = (
        shop_items.assign(left=shop_items["quantity"] - shop_items["cancelled"])
        .groupby("order_key")
        .agg(left=("left", "sum"), q=("quantity", "sum"))
    )
    whole_cancelled = set(whole.index[(whole["left"] == 0) & (whole["q"] > 0)])
    fees = []
    for column, kind, sign in (
        ("shipping_fee", "shipping", 1),
        ("discount_amount", "discount", -1),
    ):
        value = _num(shop_orders[column]).fillna(0) * sign
        for oid in value.index[value != 0]:
            key = "shop:" + oid
            fees.append(
                {
                    "line_key": f"{key}:{kind}",
                    "order_key": key,
                    "customer_source": orders.at[oid, "customer_source"],
                    "customer_key": orders.at[oid, "customer_key"],
                    "ordered_at": orders.at[oid, "time"],
                    "product": None,
                    "type": kind,
                    "quantity": 1,
                    "amount": value[oid],
                    "cancelled": int(
                        orders.at[oid, "code"] == "cancelled" or key in whole_cancelled
                    ),
                    "is_paid": orders.at[oid, "paid"],
                    "is_credit_doc": orders.at[oid, "credit"],
                    "original_order": None,
                    "original_line_key": None,
                }
            )
    returns = claimed[claimed["claim_type"].str.strip() == "return"]
    item_index = items.set_index("iid")
    claim_lines = []
    for row in returns.itertuples():
        oid, iid = row.order_id.strip(), row.order_item_id.strip()
        known = iid in item_index.index
        price = item_index.at[iid, "price"] if known else np.nan
        customer = orders.loc[oid] if oid in orders.index else None
        claim_lines.append(
            {
                "line_key": f"shop-claim:{row.claim_id.strip()}:{row.claim_item_id.strip()}",
                "order_key": f"shop-claim:{row.claim_id.strip()}",
                "customer_source": None if customer is None else customer["customer_source"],
                "customer_key": None if customer is None else customer["customer_key"],
                "ordered_at": pd.Timestamp(row.completed_at),
                "product": item_index.at[iid, "product_code"].strip() if known else None,
                "quantity": -row.qty,
                "amount": -row.qty * price,
                "cancelled": 0,
                "is_paid": True,
                "is_credit_doc": True,
                "original_order": f"shop:{oid}",
                "original_line_key": f"shop:{oid}:{iid}",
            }
        )
    returned_orders = set(returns["order_id"].str.strip())
    fallback = []
    for row in shop_items[
        shop_items["order_key"]
        .str[5:]
        .map(lambda oid: orders.at[oid, "code"] == "returned" and oid not in returned_orders)
    ].itertuples():
        oid = row.order_key[5:]
        left = row.quantity - row.cancelled
        if left > 0:
            fallback.append(
                {
                    "line_key": f"shop-return:{oid}:{row.line_key.rsplit(':', 1)[1]}",
                    "order_key": f"shop-return:{oid}",
                    "customer_source": row.customer_source,
                    "customer_key": row.customer_key,
                    "ordered_at": orders.at[oid, "updated"],
                    "product": row.product,
                    "quantity": -left,
                    "amount": -left * row.amount / row.quantity,
                    "cancelled": 0,
                    "is_paid": True,
                    "is_credit_doc": True,
                    "original_order": row.order_key,
                    "original_line_key": row.line_key,
                }
            )
    shop = pd.concat(
        [shop_items, pd.DataFrame(fees), pd.DataFrame(claim_lines), pd.DataFrame(fallback)],
        ignore_index=True,
    )
    lines = pd.concat(
        [erp.drop(columns=["status", "original_line", "original_no", "date"]), shop],
        ignore_index=True,
    )
    lines["type"] = lines["type"].where(
        lines["type"].notna(), lines["product"].map(product_type).fillna("merchandise")
    )
    lines["is_credit"] = lines["is_credit_doc"] | (lines["quantity"] < 0)
    lines["date"] = pd.to_datetime(lines["ordered_at"]).dt.normalize()

    crosswalk = con.execute(
        "select source, source_key, customer_id from intermediate.int_identity_crosswalk"
    ).df()
    lines = lines.merge(
        crosswalk,
        how="left",
        left_on=["customer_source", "customer_key"],
        right_on=["source", "source_key"],
    ).drop(columns=["source", "source_key"])
    return lines


def net_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Tie every credit line to the sale it reverses; booked and net amount per line."""
    lines = lines.copy()
    lines["booked_qty"] = np.where(lines["is_paid"], lines["quantity"] - lines["cancelled"], 0)
    cancelled_amount = np.where(
        lines["cancelled"] == 0,
        0,
        np.where(
            lines["cancelled"] == lines["quantity"],
            lines["amount"],
            (lines["amount"] * lines["cancelled"] / lines["quantity"]).round(2),
        ),
    )
    lines["booked"] = np.where(lines["is_paid"], lines["amount"] - cancelled_amount, 0)
    sales = lines[~lines["is_credit"] & lines["is_paid"] & (lines["booked_qty"] > 0)]
    sale_keys = set(sales["line_key"])
    known_orders = set(lines.loc[~lines["is_credit"], "order_key"])
    credits = lines[lines["is_credit"] & (lines["quantity"] < 0)].sort_values(
        ["ordered_at", "line_key"]
    )
    taken: dict[str, float] = {}
    held: set[str] = set()
    allocated: dict[str, str] = {}
    booked_qty = sales.set_index("line_key")["booked_qty"].to_dict()
    for credit in credits.itertuples():
        quantity = -credit.quantity
        if pd.isna(credit.amount):
            held.add(credit.line_key)
            continue
        named = pd.notna(credit.original_order)
        if named and credit.original_order not in known_orders:
            held.add(credit.line_key)
            continue
        target, rule = None, None
        if credit.original_line_key in sale_keys:
            target, rule = credit.original_line_key, "line"
        elif named:
            same = sales[
                (sales["order_key"] == credit.original_order) & (sales["product"] == credit.product)
            ]
            if len(same):
                same = same.assign(fits=same["booked_qty"] >= quantity).sort_values(
                    ["fits", "line_key"], ascending=[False, True]
                )
                target, rule = same["line_key"].iloc[0], "order"
        else:
            earlier = sales[
                (sales["customer_id"] == credit.customer_id)
                & sales["customer_id"].notna()
                & (sales["product"] == credit.product)
                & (sales["ordered_at"] <= credit.ordered_at)
            ]
            if len(earlier):
                earlier = earlier.sort_values(["ordered_at", "line_key"], ascending=False)
                target, rule = earlier["line_key"].iloc[0], "customer"
        if target is None:
            if named:
                held.add(credit.line_key)
            continue
        # The running total counts every credit matched to the line, tied or not, as the SQL
        # window sum does.
        taken[target] = taken.get(target, 0) + quantity
        if taken[target] > booked_qty[target]:
            if rule != "customer":
                held.add(credit.line_key)
            continue
        allocated[credit.line_key] = target
    kept = lines[~lines["line_key"].isin(held)].copy()
    credit_amount = kept.set_index("line_key")["booked"]
    returned = pd.Series({sale: 0.0 for sale in set(allocated.values())})
    for credit, sale in allocated.items():
        returned[sale] -= credit_amount[credit]
    kept["returned"] = kept["line_key"].map(returned).fillna(0)
    kept["net"] = np.where(kept["line_key"].isin(allocated), 0, kept["booked"] - kept["returned"])
    return kept


def purchases(lines: pd.DataFrame) -> pd.DataFrame:
    """Per customer and day: purchase orders and merchandise value (fct_purchases)."""
    merch = lines[lines["type"] == "merchandise"]
    orders = (
        lines[lines["customer_id"].notna()]
        .groupby("order_key")
        .agg(
            customer_id=("customer_id", "first"),
            date=("date", "first"),
            credit=("is_credit_doc", "first"),
        )
    )
    orders["net"] = merch.groupby("order_key")["net"].sum().reindex(orders.index).fillna(0)
    orders["booked"] = merch.groupby("order_key")["booked"].sum().reindex(orders.index).fillna(0)
    orders = orders[(orders["net"] != 0) | (~orders["credit"] & (orders["booked"] != 0))]
    orders["purchase"] = ~orders["credit"] & (orders["net"] > 0)
    days = (
        orders.groupby(["customer_id", "date"])
        .agg(purchase_orders=("purchase", "sum"), value=("net", "sum"))
        .reset_index()
    )
    return days[(days["purchase_orders"] > 0) | (days["value"] != 0)]


def rfm(days: pd.DataFrame, as_of: date, window_days: int) -> pd.DataFrame:
    """Recency, frequency, monetary and the 1-5 scores of the documented rule (docs/models.md)."""
    as_of_ts = pd.Timestamp(as_of)
    in_window = days[
        (days["date"] <= as_of_ts) & (days["date"] > as_of_ts - timedelta(days=window_days))
    ]
    bought = in_window[in_window["purchase_orders"] > 0]
    scored = pd.DataFrame(
        {
            "last": bought.groupby("customer_id")["date"].max(),
            "frequency": bought.groupby("customer_id").size(),
        }
    )
    scored["monetary"] = in_window.groupby("customer_id")["value"].sum()
    scored["recency"] = (as_of_ts - scored["last"]).dt.days
    n = len(scored)

    def score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
        below = values.rank(method="min", ascending=higher_is_better) - 1
        return (1 + np.floor(5 * below / n)).astype(int)

    scored["r"] = score(scored["recency"], higher_is_better=False)
    scored["f"] = score(scored["frequency"])
    scored["m"] = score(scored["monetary"])
    return scored
