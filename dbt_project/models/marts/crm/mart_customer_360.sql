with customers as (
    select * from {{ ref('int_customers_golden') }}
),

rfm as (
    select * from {{ ref('mart_customer_rfm') }}
),

ltv as (
    select * from {{ ref('mart_customer_ltv') }}
),

value_grid as (
    select * from {{ ref('mart_customer_value_grid') }}
),

churn as (
    select * from {{ ref('mart_churn_risk') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where document_type = 'order'
),

calls as (
    select * from {{ ref('fct_calls') }}
),

sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

last_orders as (
    select
        customer_id,
        order_date,
        channel_code,
        order_status,
        net_amount,
        row_number() over (partition by customer_id order by ordered_at desc, order_key desc)
            as recency_rank
    from orders
    where customer_id is not null
),

last_calls as (
    select
        customer_id,
        started_at,
        direction,
        call_category,
        row_number() over (partition by customer_id order by started_at desc, call_id desc)
            as recency_rank
    from calls
    where customer_id is not null
),

-- A send's strongest response, and when it happened.
responses as (
    select
        customer_id,
        campaign_id,
        case
            when is_complaint then 'complained'
            when is_unsubscribe then 'unsubscribed'
            when is_click then 'clicked'
            when is_open then 'opened'
            when is_delivered then 'delivered_not_opened'
            else 'not_delivered'
        end as response,
        coalesce(
            first_complaint_at, first_unsubscribe_at, first_click_at, first_open_at,
            first_delivered_at, sent_at
        ) as responded_at
    from sends
    where customer_id is not null
),

last_responses as (
    select
        responses.*,
        row_number() over (
            partition by customer_id order by responded_at desc, campaign_id desc
        ) as recency_rank
    from responses
)

select
    customers.customer_id,
    customers.name,
    customers.mobile,
    customers.mobile_status,
    customers.home_phone,
    customers.home_phone_status,
    customers.email,
    customers.email_status,
    customers.postal_code,
    customers.address,
    customers.address_detail,
    customers.address_status,
    customers.birth_date,
    customers.grade,
    customers.member_since,
    customers.email_consent,
    customers.sms_consent,
    rfm.segment_code as rfm_segment_code,
    rfm.segment_name_ko as rfm_segment_name_ko,
    rfm.rfm_cell,
    rfm.offer_ko as recommended_offer_ko,
    ltv.revenue_to_date,
    ltv.formula_ltv_npv,
    ltv.predicted_clv_12m,
    ltv.p_alive,
    value_grid.cell_code as value_cell_code,
    value_grid.cell_name_ko as value_cell_name_ko,
    value_grid.strategy_ko as value_strategy_ko,
    churn.risk_band as churn_risk_band,
    churn.risk_reason_ko as churn_risk_reason_ko,
    last_orders.order_date as last_order_date,
    last_orders.channel_code as last_order_channel,
    last_orders.order_status as last_order_status,
    last_orders.net_amount as last_order_net_amount,
    last_calls.started_at as last_call_at,
    last_calls.direction as last_call_direction,
    last_calls.call_category as last_call_category,
    last_responses.campaign_id as last_campaign_id,
    last_responses.response as last_campaign_response,
    last_responses.responded_at as last_campaign_response_at
from customers
left join rfm on rfm.customer_id = customers.customer_id
left join ltv on ltv.customer_id = customers.customer_id
left join value_grid on value_grid.customer_id = customers.customer_id
left join churn on churn.customer_id = customers.customer_id
left join last_orders
    on last_orders.customer_id = customers.customer_id and last_orders.recency_rank = 1
left join last_calls
    on last_calls.customer_id = customers.customer_id and last_calls.recency_rank = 1
left join last_responses
    on last_responses.customer_id = customers.customer_id and last_responses.recency_rank = 1
