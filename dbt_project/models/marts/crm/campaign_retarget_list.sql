with sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

customers as (
    select * from {{ ref('int_customers_golden') }}
),

latest_wave as (
    select
        *,
        row_number() over (
            partition by first_wave_campaign_id, customer_id order by wave desc
        ) as wave_rank
    from sends
),

opted_out as (
    select distinct customer_id
    from sends
    where is_unsubscribe or is_complaint
)

select
    latest_wave.first_wave_campaign_id,
    latest_wave.campaign_id as last_campaign_id,
    latest_wave.wave as last_wave,
    latest_wave.wave + 1 as next_wave,
    latest_wave.customer_id,
    customers.name as customer_name,
    customers.email,
    latest_wave.first_delivered_at
from latest_wave
inner join customers on customers.customer_id = latest_wave.customer_id
left join opted_out on opted_out.customer_id = latest_wave.customer_id
where latest_wave.wave_rank = 1
    and latest_wave.wave < 3
    and latest_wave.is_delivered
    and not latest_wave.is_open
    and not latest_wave.is_click
    and opted_out.customer_id is null
    and customers.email_consent = 'consented'
    and customers.has_valid_email
