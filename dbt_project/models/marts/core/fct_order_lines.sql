{{ config(
    materialized='incremental',
    unique_key='line_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
-- One row per order line (ERP order lines and shop order items). Incremental: a run reads only
-- raw batches loaded after the newest one already here, and re-delivered lines replace their
-- earlier version (unique_key), so re-runs add nothing. The customer comes through fct_orders
-- (order_key), so identity merges never leave stale customer ids here.
with erp_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

erp_orders as (
    select * from {{ ref('stg_erp__orders') }}
),

shop_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

lines as (
    select
        'erp:' || erp_lines.erp_order_no || ':' || cast(erp_lines.line_no as {{ dbt.type_string() }})
            as line_key,
        'erp:' || erp_lines.erp_order_no as order_key,
        erp_lines.product_code,
        erp_orders.order_date,
        erp_orders.order_status,
        erp_lines.quantity,
        erp_lines.unit_price,
        erp_lines.line_amount,
        {{ greatest_ts('erp_lines._loaded_at', 'erp_orders._loaded_at') }} as _loaded_at
    from erp_lines
    left join erp_orders on erp_orders.erp_order_no = erp_lines.erp_order_no

    union all

    select
        'shop:' || cast(shop_items.shop_order_id as {{ dbt.type_string() }}) || ':'
            || cast(shop_items.shop_order_item_id as {{ dbt.type_string() }}) as line_key,
        'shop:' || cast(shop_items.shop_order_id as {{ dbt.type_string() }}) as order_key,
        shop_items.product_code,
        cast(shop_orders.ordered_at as date) as order_date,
        shop_orders.order_status,
        shop_items.quantity,
        shop_items.unit_price,
        shop_items.line_amount,
        {{ greatest_ts('shop_items._loaded_at', 'shop_orders._loaded_at') }} as _loaded_at
    from shop_items
    left join shop_orders on shop_orders.shop_order_id = shop_items.shop_order_id
)

select
    line_key,
    order_key,
    product_code,
    order_date,
    coalesce(order_status, 'unknown') as order_status,
    quantity,
    unit_price,
    line_amount,
    case
        when order_status = 'cancelled' then 0
        when order_status = 'returned' and order_key like 'shop:%' then 0
        else line_amount
    end as net_line_amount,
    _loaded_at
from lines
{% if is_incremental() %}
{{ new_batches_or_reresolved('line_key') }}
{% endif %}
