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

normalised as {{ computed_once() }} (
    select
        *,
        {{ phone_national('orderer_mobile') }} as orderer_mobile_digits,
        {{ email_domain_fix('orderer_email') }} as orderer_email_domain_fix
    from latest
    where {{ not_deleted('shop', 'orders', ['order_id']) }}
),

judged as {{ computed_once() }} (
    select
        *,
        {{ phone_verdict('orderer_mobile', 'orderer_mobile_digits', expected_kind='mobile') }}
            as orderer_mobile_verdict,
        {{ email_verdict('orderer_email', 'orderer_email_domain_fix') }} as orderer_email_verdict
    from normalised
)

select
    {{ parse_int('judged.order_id') }} as shop_order_id,
    {{ parse_int('judged.member_id') }} as shop_member_id,
    {{ parse_int('judged.member_id') }} is null as is_guest_order,
    {{ name_columns('judged.orderer_name', 'orderer_name') }},
    {{ phone_columns('orderer_mobile') }},
    {{ email_columns('judged.orderer_email', 'orderer_email') }},
    {{ parse_timestamp('judged.ordered_at') }} as ordered_at,
    {{ parse_timestamp('judged.paid_at') }} as paid_at,
    coalesce(statuses.order_status, 'unknown') as order_status,
    lower(trim(judged.status)) as shop_status,
    -- Paid: the status says so, or a payment time is recorded.
    coalesce(statuses.is_paid, false)
    or {{ parse_timestamp('judged.paid_at') }} is not null as is_paid,
    case when {{ parse_amount('judged.total_amount') }} < 0 then 'credit_note' else 'order' end
        as document_type,
    {{ parse_amount('judged.total_amount') }} as order_amount,
    coalesce({{ parse_amount('judged.shipping_fee') }}, 0) as shipping_fee,
    coalesce({{ parse_amount('judged.discount_amount') }}, 0) as discount_amount,
    {{ parse_int('judged.original_order_id') }} as original_shop_order_id,
    {{ parse_timestamp('judged.updated_at') }} as updated_at,
    judged._batch_id,
    judged._loaded_at
from judged
left join statuses on statuses.source_status = lower(trim(judged.status))
