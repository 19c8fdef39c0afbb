{{ config(
    materialized='incremental',
    unique_key='erp_order_no',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns'
) }}
with source as (
    select * from {{ source('erp', 'erp_orders') }}
    {{ keys_loaded_since_last_build(source('erp', 'erp_orders'), 'trim("주문번호")') }}
),

statuses as (
    select * from {{ ref('order_statuses') }}
    where source = 'erp'
),

latest as (
    {{ deduplicate('source', ['trim("주문번호")']) }}
)

select
    trim(latest."주문번호") as erp_order_no,
    trim(latest."고객번호") as erp_customer_no,
    {{ parse_date('latest."주문일자"') }} as order_date,
    case trim(latest."판매채널")
        when '매장' then 'store'
        when 'TV홈쇼핑' then 'tv_home_shopping'
        when 'B2B' then 'b2b'
        else 'unknown'
    end as channel_code,
    coalesce(statuses.order_status, 'unknown') as order_status,
    trim(latest."주문상태") as erp_status,
    case when statuses.order_status = 'returned' then 'credit_note' else 'order' end
        as document_type,
    coalesce(statuses.is_paid, false) as is_paid,
    {{ clean_text('latest."원주문번호"') }} as original_erp_order_no,
    {{ parse_amount('latest."총금액"') }} as order_amount,
    latest._source_file,
    latest._batch_id,
    latest._loaded_at,
    '{{ staging_rules_fingerprint() }}' as _staging_rules
from latest
left join statuses on statuses.source_status = trim(latest."주문상태")
