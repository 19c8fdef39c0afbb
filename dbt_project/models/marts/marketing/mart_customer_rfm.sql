{#- RFM as of var('rfm_as_of_date') (default: today) over the last var('rfm_window_days') days.
    Scores 1-5 by quintile of the customers scored, 5 = best: ceil(5 × share of customers at or
    below the value). Ties share a score, so a quintile edge never splits equal values. -#}
{%- set as_of = "cast('" ~ var('rfm_as_of_date') ~ "' as date)" if var('rfm_as_of_date', none)
                else "current_date" -%}

-- One row per customer with at least one purchase in the window: recency, frequency and
-- monetary value (net of returns and cancellations), R/F/M scores, the segment from the seed
-- rfm_segments and the recommended offer from the seed rfm_offers (seed 000's coupon rule).
with orders as (
    select * from {{ ref('fct_orders') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

offers as (
    select * from {{ ref('rfm_offers') }}
),

window_orders as (
    select *
    from orders
    where customer_id is not null
        and order_date <= {{ as_of }}
        and order_date > {{ as_of }} - {{ var('rfm_window_days') }}
),

per_customer as (
    select
        customer_id,
        max(case when is_purchase then order_date end) as last_purchase_date,
        count(distinct case when is_purchase then order_key end) as frequency,
        sum(net_amount) as monetary
    from window_orders
    group by customer_id
    having count(distinct case when is_purchase then order_key end) > 0
),

measured as (
    select
        customer_id,
        last_purchase_date,
        {{ as_of }} - last_purchase_date as recency_days,
        frequency,
        monetary
    from per_customer
),

-- How many customers score at or below each one (ties count together), and how many in all.
ranked as (
    select
        measured.*,
        count(*) over (order by recency_days desc) as recency_at_or_below,
        count(*) over (order by frequency) as frequency_at_or_below,
        count(*) over (order by monetary) as monetary_at_or_below,
        count(*) over () as customers_scored
    from measured
),

-- score = ceil(5 × share at or below), in exact arithmetic.
scored as (
    select
        ranked.*,
        {%- for measure, score in [('recency', 'r_score'), ('frequency', 'f_score'),
                                   ('monetary', 'm_score')] %}
        cast(floor((5.0 * {{ measure }}_at_or_below + customers_scored - 1) / customers_scored)
            as integer) as {{ score }}{{ "," if not loop.last }}
        {%- endfor %}
    from ranked
),

segmented as (
    select
        scored.*,
        segments.segment_code,
        segments.segment_name,
        segments.segment_name_ko,
        row_number() over (partition by scored.customer_id order by segments.priority)
            as segment_rank
    from scored
    inner join segments
        on scored.r_score between segments.r_score_min and segments.r_score_max
        and scored.f_score between segments.f_score_min and segments.f_score_max
)

select
    segmented.customer_id,
    {{ as_of }} as as_of_date,
    segmented.last_purchase_date,
    cast(segmented.recency_days as integer) as recency_days,
    segmented.frequency,
    segmented.monetary,
    segmented.r_score,
    segmented.f_score,
    segmented.m_score,
    cast(segmented.r_score as {{ dbt.type_string() }})
        || cast(segmented.f_score as {{ dbt.type_string() }})
        || cast(segmented.m_score as {{ dbt.type_string() }}) as rfm_cell,
    segmented.segment_code,
    segmented.segment_name,
    segmented.segment_name_ko,
    offers.frequency_band,
    offers.discount_pct as offer_discount_pct,
    offers.offer,
    offers.offer_ko
from segmented
left join offers
    on segmented.f_score between offers.f_score_min and offers.f_score_max
where segmented.segment_rank = 1
