{{ config(
    materialized='incremental',
    unique_key='erp_order_no',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns'
) }}
with source as (
    select * from {{ source('erp', 'erp_order_lines') }}
    {{ keys_loaded_since_last_build(source('erp', 'erp_order_lines'), 'trim("주문번호")') }}
),

latest as (
    {{ deduplicate('source', ['trim("주문번호")', 'trim("행번호")']) }}
)

select
    trim("주문번호") as erp_order_no,
    {{ parse_int('"행번호"') }} as line_no,
    trim("상품코드") as product_code,
    {{ parse_int('"수량"') }} as quantity,
    {{ parse_amount('"단가"') }} as unit_price,
    {{ parse_amount('"금액"') }} as line_amount,
    {{ parse_int('"원행번호"') }} as original_line_no,
    _batch_id,
    _loaded_at,
    '{{ staging_rules_fingerprint() }}' as _staging_rules
from latest
