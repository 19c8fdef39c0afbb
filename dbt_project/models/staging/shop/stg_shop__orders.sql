-- One row per shop order: the latest loaded version, unless deleted in the shop (see
-- stg_shop__members). Member orders carry the
-- member id; guest orders (비회원 주문) none — the buyer's checkout contacts (standardised like
-- every contact) are what can tie them to a customer. Status through the seed
-- order_statuses; a negative total marks a credit note (items with negative quantities)
-- naming the order it reverses.
with source as (
    select * from {{ source('shop', 'shop_orders') }}
),

statuses as (
    select * from {{ ref('order_statuses') }}
    where source = 'shop'
),

latest as (
    {{ deduplicate('source', ['trim(order_id)'], order_by=shop_newest_first()) }}
),

normalised as (
    select
        *,
        {{ phone_national('orderer_mobile') }} as orderer_mobile_digits
    from latest
    where {{ not_deleted('shop', 'orders', ['order_id']) }}
)

select
    {{ parse_int('normalised.order_id') }} as shop_order_id,
    {{ parse_int('normalised.member_id') }} as shop_member_id,
    {{ parse_int('normalised.member_id') }} is null as is_guest_order,
    {{ name_columns('normalised.orderer_name', 'orderer_name') }},
    {{ phone_columns('normalised.orderer_mobile_digits', 'orderer_mobile') }},
    {{ email_columns('normalised.orderer_email', 'orderer_email') }},
    {{ parse_timestamp('normalised.ordered_at') }} as ordered_at,
    {{ parse_timestamp('normalised.paid_at') }} as paid_at,
    coalesce(statuses.order_status, 'unknown') as order_status,
    lower(trim(normalised.status)) as shop_status,
    -- Paid: the status says so, or a payment time is recorded.
    coalesce(statuses.is_paid, false)
        or {{ parse_timestamp('normalised.paid_at') }} is not null as is_paid,
    case when {{ parse_amount('normalised.total_amount') }} < 0 then 'credit_note' else 'order' end
        as document_type,
    {{ parse_amount('normalised.total_amount') }} as order_amount,
    coalesce({{ parse_amount('normalised.shipping_fee') }}, 0) as shipping_fee,
    coalesce({{ parse_amount('normalised.discount_amount') }}, 0) as discount_amount,
    {{ parse_int('normalised.original_order_id') }} as original_shop_order_id,
    {{ parse_timestamp('normalised.updated_at') }} as updated_at,
    normalised._batch_id,
    normalised._loaded_at
from normalised
left join statuses on statuses.source_status = lower(trim(normalised.status))
