{#- Dates and RFM scoring shared by the customer-scoring marts. -#}

{#- The as-of date of customer scoring (RFM, CLV, churn): var('rfm_as_of_date'), else today. -#}
{% macro scoring_as_of_date() -%}
    {%- if var('rfm_as_of_date', none) -%}
        cast('{{ var("rfm_as_of_date") }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}

{#- CTEs scoring every customer with a purchase in the window ending on each as_of_date of
    `as_of_dates` (a relation or CTE with one column as_of_date). The last CTE, rfm_segmented,
    holds one row per (as_of_date, customer_id): recency, frequency, monetary, R/F/M scores
    and the segment of the seed rfm_segments.

    Scores 1-5 by quintile of the customers scored on the same date, 5 = best:
    ceil(5 × share of customers at or below the value). Ties share a score, so a quintile edge
    never splits equal values. Monetary is net of returns and cancellations. -#}
{% macro rfm_scoring_ctes(orders, as_of_dates) -%}
-- Orders folded to customer-days first: the window join below repeats each row once per
-- as-of date, so fewer rows here is most of the cost. fct_orders has one row per order.
rfm_customer_days as (
    select
        customer_id,
        order_date,
        sum(case when is_purchase then 1 else 0 end) as purchases,
        sum(net_amount) as net_amount
    from {{ orders }}
    where customer_id is not null
    group by customer_id, order_date
),

rfm_per_customer as (
    select
        {{ as_of_dates }}.as_of_date,
        rfm_customer_days.customer_id,
        max(case when rfm_customer_days.purchases > 0 then rfm_customer_days.order_date end)
            as last_purchase_date,
        sum(rfm_customer_days.purchases) as frequency,
        sum(rfm_customer_days.net_amount) as monetary
    from rfm_customer_days
    inner join {{ as_of_dates }}
        on rfm_customer_days.order_date <= {{ as_of_dates }}.as_of_date
        and rfm_customer_days.order_date
            > {{ as_of_dates }}.as_of_date - {{ var('rfm_window_days') }}
    group by {{ as_of_dates }}.as_of_date, rfm_customer_days.customer_id
    having sum(rfm_customer_days.purchases) > 0
),

-- How many customers of the same date score at or below each one (ties count together).
rfm_ranked as (
    select
        as_of_date,
        customer_id,
        last_purchase_date,
        as_of_date - last_purchase_date as recency_days,
        frequency,
        monetary,
        count(*) over (partition by as_of_date order by as_of_date - last_purchase_date desc)
            as recency_at_or_below,
        count(*) over (partition by as_of_date order by frequency) as frequency_at_or_below,
        count(*) over (partition by as_of_date order by monetary) as monetary_at_or_below,
        count(*) over (partition by as_of_date) as customers_scored
    from rfm_per_customer
),

-- score = ceil(5 × share at or below), in exact integer arithmetic.
rfm_scored as (
    select
        rfm_ranked.*,
        {%- for measure, score in [('recency', 'r_score'), ('frequency', 'f_score'),
                                   ('monetary', 'm_score')] %}
        cast(floor((5.0 * {{ measure }}_at_or_below + customers_scored - 1) / customers_scored)
            as integer) as {{ score }}{{ "," if not loop.last }}
        {%- endfor %}
    from rfm_ranked
),

rfm_segment_candidates as (
    select
        rfm_scored.*,
        segments.segment_code,
        segments.segment_name,
        segments.segment_name_ko,
        row_number() over (
            partition by rfm_scored.as_of_date, rfm_scored.customer_id
            order by segments.priority
        ) as segment_rank
    from rfm_scored
    inner join {{ ref('rfm_segments') }} as segments
        on rfm_scored.r_score between segments.r_score_min and segments.r_score_max
        and rfm_scored.f_score between segments.f_score_min and segments.f_score_max
),

rfm_segmented as (
    select
        as_of_date,
        customer_id,
        last_purchase_date,
        cast(recency_days as integer) as recency_days,
        cast(frequency as bigint) as frequency,
        monetary,
        r_score,
        f_score,
        m_score,
        segment_code,
        segment_name,
        segment_name_ko
    from rfm_segment_candidates
    where segment_rank = 1
)
{%- endmacro %}
