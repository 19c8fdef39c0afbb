-- One row per shop order: the latest loaded version, unless deleted in the shop (see
-- stg_shop__members).
with source as (
    select * from {{ source('shop', 'shop_orders') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by trim(order_id)
            order by _loaded_at desc, {{ parse_timestamp('updated_at') }} desc, _source_line desc
        ) as version_rank
    from source
)

select
    {{ parse_int('order_id') }} as shop_order_id,
    {{ parse_int('member_id') }} as shop_member_id,
    {{ parse_timestamp('ordered_at') }} as ordered_at,
    case lower(trim(status))
        when 'paid' then 'completed'
        when 'shipped' then 'completed'
        when 'cancelled' then 'cancelled'
        when 'returned' then 'returned'
        else 'unknown'
    end as order_status,
    lower(trim(status)) as shop_status,
    {{ parse_int('total_amount') }} as order_amount,
    {{ parse_timestamp('updated_at') }} as updated_at,
    _batch_id,
    _loaded_at
from latest
where version_rank = 1 and {{ not_deleted('shop', 'orders', ['order_id']) }}
