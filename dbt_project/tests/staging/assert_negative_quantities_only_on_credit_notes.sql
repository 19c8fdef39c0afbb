{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_erp__order_lines'}}}) }}
-- Quantities are negative only on credit notes (an ERP 반품 slip, a shop credit note): a
-- negative quantity on a sale is a typo, or a return keyed on the wrong document. Returns of
-- shop orders are claims (stg_shop__claim_items), not negative items. A line whose document is
-- missing (quarantined) cannot be judged here; dbt's relationships warning counts those.
with erp_lines as (
    select
        'erp' as source,
        lines.erp_order_no || '/' || cast(lines.line_no as {{ dbt.type_string() }}) as line_key,
        lines.quantity
    from {{ ref('stg_erp__order_lines') }} as lines
    inner join {{ ref('stg_erp__orders') }} as orders
        on orders.erp_order_no = lines.erp_order_no
    where lines.quantity < 0 and orders.document_type <> 'credit_note'
),

shop_items as (
    select
        'shop' as source,
        cast(items.shop_order_item_id as {{ dbt.type_string() }}) as line_key,
        items.quantity
    from {{ ref('stg_shop__order_items') }} as items
    inner join {{ ref('stg_shop__orders') }} as orders
        on orders.shop_order_id = items.shop_order_id
    where items.quantity < 0 and orders.document_type <> 'credit_note'
)

select source, line_key, quantity from erp_lines
union all
select source, line_key, quantity from shop_items
