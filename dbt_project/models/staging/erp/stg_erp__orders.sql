-- One row per ERP order number (an order re-delivered in a later drop keeps its latest version).
-- 주문상태: 정상 = completed, 취소 = cancelled, 반품 = return (a separate order, negative amounts).
with source as (
    select * from {{ source('erp', 'erp_orders') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by trim("주문번호")
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from source
)

select
    trim("주문번호") as erp_order_no,
    trim("고객번호") as erp_customer_no,
    {{ parse_date('"주문일자"') }} as order_date,
    case trim("판매채널")
        when '매장' then 'store'
        when 'TV홈쇼핑' then 'tv_home_shopping'
        when 'B2B' then 'b2b'
        else 'unknown'
    end as channel_code,
    case trim("주문상태")
        when '정상' then 'completed'
        when '취소' then 'cancelled'
        when '반품' then 'returned'
        else 'unknown'
    end as order_status,
    {{ parse_int('"총금액"') }} as order_amount,
    _source_file,
    _batch_id,
    _loaded_at
from latest
where version_rank = 1
