with erp_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

shop_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

documents as (
    select * from {{ ref('int_order_documents') }}
),

lines as (
    select * from {{ ref('int_order_line_returns_allocated') }}
),

unioned_lines as (
    select * from {{ ref('int_order_lines_unioned') }}
),

reasons as (
    select * from {{ ref('order_exception_reasons') }}
),

held as (
    select
        'erp:' || erp_lines.erp_order_no || ':' || cast(erp_lines.line_no as {{ dbt.type_string() }})
            as line_key,
        'erp:' || erp_lines.erp_order_no as order_key,
        'erp' as source,
        erp_lines.line_amount as amount,
        'order_header_missing' as exception_code
    from erp_lines
    left join documents on documents.order_key = 'erp:' || erp_lines.erp_order_no
    where documents.order_key is null

    union all

    select
        'shop:' || cast(shop_items.shop_order_id as {{ dbt.type_string() }}) || ':'
        || cast(shop_items.shop_order_item_id as {{ dbt.type_string() }}) as line_key,
        'shop:' || cast(shop_items.shop_order_id as {{ dbt.type_string() }}) as order_key,
        'shop' as source,
        shop_items.line_amount as amount,
        'order_header_missing' as exception_code
    from shop_items
    left join documents
        on documents.order_key = 'shop:' || cast(shop_items.shop_order_id as {{ dbt.type_string() }})
    where documents.order_key is null

    union all

    select
        lines.line_key,
        lines.order_key,
        unioned_lines.source,
        unioned_lines.amount,
        lines.exception_code
    from lines
    inner join unioned_lines on unioned_lines.line_key = lines.line_key
    where lines.exception_code is not null
)

select
    held.line_key,
    held.order_key,
    held.source,
    held.amount,
    held.exception_code,
    reasons.reason,
    reasons.reason_ko
from held
left join reasons on reasons.exception_code = held.exception_code
