{{ config(meta={'dagster': {'ref': {'name': 'stg_erp__customers'}}}) }}
-- Row-count reconciliation raw → staging: each staging model holds exactly one row per distinct
-- source key in its raw table (raw keeps every delivered version; staging the latest), less the
-- shop records whose delete marker covers their latest version.
{%- set checks = [
    ('erp', 'erp_customers', 'trim("고객번호")', 'stg_erp__customers', none),
    ('erp', 'erp_products', 'trim("상품코드")', 'stg_erp__products', none),
    ('erp', 'erp_orders', 'trim("주문번호")', 'stg_erp__orders', none),
    ('erp', 'erp_order_lines', 'trim("주문번호") || \'|\' || trim("행번호")', 'stg_erp__order_lines', none),
    ('shop', 'shop_members', 'trim(member_id)', 'stg_shop__members', ['member_id']),
    ('shop', 'shop_orders', 'trim(order_id)', 'stg_shop__orders', ['order_id']),
    ('shop', 'shop_order_items', 'trim(order_item_id)', 'stg_shop__order_items', ['order_item_id']),
    ('shop', 'shop_claims', 'trim(claim_id)', 'stg_shop__claims', ['claim_id']),
    ('shop', 'shop_claim_items', 'trim(claim_item_id)', 'stg_shop__claim_items', ['claim_item_id']),
    ('shop', 'shop_marketing_consents', 'trim(member_id) || \'|\' || lower(trim(channel))', 'stg_shop__marketing_consents', ['member_id', 'channel']),
    ('callcenter', 'callcenter_calls', 'trim(call_id)', 'stg_callcenter__calls', none),
    ('callcenter', 'callcenter_tickets', 'trim(ticket_id)', 'stg_callcenter__tickets', none),
    ('esp', 'esp_campaigns', 'trim(campaign_id)', 'stg_esp__campaigns', none),
    ('esp', 'esp_events', 'trim(event_id)', 'stg_esp__events', none),
] %}
{%- for source_name, table, key, model, deletion_key in checks %}
{%- set raw_keys -%}
    (select count(distinct {{ key }}) from {{ source(source_name, table) }}
     {%- if deletion_key %} where {{ not_deleted(source_name, table[source_name | length + 1:], deletion_key) }}{% endif %})
{%- endset %}
select
    '{{ model }}' as model_name,
    {{ raw_keys }} as raw_keys,
    (select count(*) from {{ ref(model) }}) as staged_rows
where {{ raw_keys }} <> (select count(*) from {{ ref(model) }})
{% if not loop.last %}union all{% endif %}
{%- endfor %}
