-- One row per product code: the latest version across daily master snapshots.
with source as (
    select * from {{ source('erp', 'erp_products') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by trim("상품코드")
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from source
)

select
    trim("상품코드") as product_code,
    {{ clean_text('"상품명"') }} as product_name,
    {{ clean_text('"카테고리"') }} as category,
    {{ parse_int('"판매가"') }} as list_price,
    {{ parse_int('"원가"') }} as unit_cost,
    coalesce(upper(trim("사용여부")) = 'Y', false) as is_active,
    _batch_id,
    _loaded_at
from latest
where version_rank = 1
