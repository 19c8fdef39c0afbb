-- One row per ERP order line (order number + line number), latest delivery wins.
with source as (
    select * from {{ source('erp', 'erp_order_lines') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by trim("주문번호"), trim("행번호")
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from source
)

select
    trim("주문번호") as erp_order_no,
    {{ parse_int('"행번호"') }} as line_no,
    trim("상품코드") as product_code,
    {{ parse_int('"수량"') }} as quantity,
    {{ parse_int('"단가"') }} as unit_price,
    {{ parse_int('"금액"') }} as line_amount,
    _batch_id,
    _loaded_at
from latest
where version_rank = 1
