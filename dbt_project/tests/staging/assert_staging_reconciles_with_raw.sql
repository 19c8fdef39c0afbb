-- Row-count reconciliation raw → staging: each staging model holds exactly one row per distinct
-- source key in its raw table (raw keeps every delivered version; staging the latest).
{%- set checks = [
    ('erp', 'erp_customers', 'trim("고객번호")', 'stg_erp__customers'),
    ('erp', 'erp_products', 'trim("상품코드")', 'stg_erp__products'),
    ('erp', 'erp_orders', 'trim("주문번호")', 'stg_erp__orders'),
    ('erp', 'erp_order_lines', 'trim("주문번호") || \'|\' || trim("행번호")', 'stg_erp__order_lines'),
    ('shop', 'shop_members', 'trim(member_id)', 'stg_shop__members'),
    ('shop', 'shop_orders', 'trim(order_id)', 'stg_shop__orders'),
    ('shop', 'shop_order_items', 'trim(order_item_id)', 'stg_shop__order_items'),
    ('shop', 'shop_marketing_consents', 'trim(member_id) || \'|\' || lower(trim(channel))', 'stg_shop__marketing_consents'),
    ('callcenter', 'callcenter_calls', 'trim(call_id)', 'stg_callcenter__calls'),
    ('callcenter', 'callcenter_tickets', 'trim(ticket_id)', 'stg_callcenter__tickets'),
    ('esp', 'esp_campaigns', 'trim(campaign_id)', 'stg_esp__campaigns'),
    ('esp', 'esp_events', 'trim(event_id)', 'stg_esp__events'),
] %}
{%- for source_name, table, key, model in checks %}
select
    '{{ model }}' as model_name,
    (select count(distinct {{ key }}) from {{ source(source_name, table) }}) as raw_keys,
    (select count(*) from {{ ref(model) }}) as staged_rows
where (select count(distinct {{ key }}) from {{ source(source_name, table) }})
    <> (select count(*) from {{ ref(model) }})
{% if not loop.last %}union all{% endif %}
{%- endfor %}
