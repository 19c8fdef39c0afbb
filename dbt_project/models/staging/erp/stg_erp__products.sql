with source as (
    select * from {{ source('erp', 'erp_products') }}
),

item_types as (
    select * from {{ ref('item_types') }}
),

latest as (
    {{ deduplicate('source', ['trim("상품코드")']) }}
)

select
    trim(latest."상품코드") as product_code,
    {{ clean_text('latest."상품명"') }} as product_name,
    {{ clean_text('latest."카테고리"') }} as category,
    {{ parse_amount('latest."판매가"') }} as list_price,
    {{ parse_amount('latest."원가"') }} as unit_cost,
    coalesce(upper(trim(latest."사용여부")) = 'Y', false) as is_active,
    {{ clean_text('latest."품목구분"') }} as item_type,
    coalesce(item_types.line_type, 'merchandise') as line_type,
    latest._batch_id,
    latest._loaded_at
from latest
left join item_types on item_types.item_type = trim(latest."품목구분")
