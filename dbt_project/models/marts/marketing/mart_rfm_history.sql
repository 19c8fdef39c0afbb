with purchases as (
    select * from {{ ref('fct_purchases') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

scoring_date as (
    select as_of_date from {{ ref('int_scoring_date') }}
),

-- The last var('rfm_history_months') month-ends before the scoring date, and the scoring date.
month_ends as (
    select calendar.date_day as as_of_date
    from calendar
    cross join scoring_date
    where calendar.date_day = scoring_date.as_of_date
        or (
            calendar.date_day = cast({{ dbt.last_day('calendar.date_day', 'month') }} as date)
            and calendar.date_day < scoring_date.as_of_date
            and calendar.date_day >= cast({{ dbt.dateadd('month', -var('rfm_history_months'),
                dbt.date_trunc('month', 'scoring_date.as_of_date')) }} as date)
        )
),

{{ rfm_scoring_ctes('purchases', 'month_ends') }}

select
    {{ dbt.concat(["cast(rfm_segmented.as_of_date as " ~ dbt.type_string() ~ ")", "':'",
                   "rfm_segmented.customer_id"]) }} as rfm_history_key,
    rfm_segmented.as_of_date as snapshot_date,
    rfm_segmented.customer_id,
    rfm_segmented.last_purchase_date,
    rfm_segmented.recency_days,
    rfm_segmented.frequency,
    rfm_segmented.monetary,
    rfm_segmented.r_score,
    rfm_segmented.f_score,
    rfm_segmented.m_score,
    rfm_segmented.segment_code,
    rfm_segmented.segment_name,
    rfm_segmented.segment_name_ko
from rfm_segmented
