{%- set days = var('churn_complaint_days') -%}
with summary as (
    select * from {{ ref('int_customer_purchase_summary') }}
),

predictions as (
    select * from {{ source('ml', 'clv_predictions') }}
),

reliability as (
    select * from {{ source('ml', 'clv_reliability') }}
),

calls as (
    select * from {{ ref('fct_calls') }}
),

purchases as (
    select * from {{ ref('fct_purchases') }}
    where is_purchase and purchase_date <= {{ scoring_as_of_date() }}
),

-- Gaps between two consecutive purchases of any customer, and the silence that is longer than
-- almost all of them.
purchase_gaps as (
    select
        purchase_date - lag(purchase_date) over (
            partition by customer_id order by purchase_date
        ) as gap_days
    from purchases
),

lapse_threshold as (
    select
        percentile_cont({{ var('churn_lapsed_gap_quantile') }}) within group (order by gap_days)
            as lapsed_after_days
    from purchase_gaps
    where gap_days is not null
),

recent_issue_calls as (
    select
        calls.customer_id,
        calls.call_category
    from calls
    inner join summary on summary.customer_id = calls.customer_id
    where calls.call_category in ('complaint', 'return', 'cancellation')
        and calls.call_date > summary.as_of_date - {{ days }}
        and calls.call_date <= summary.as_of_date
),

issue_categories as (
    select distinct customer_id, call_category from recent_issue_calls
),

call_signals as (
    select
        recent_issue_calls.customer_id,
        count(*) as issue_calls,
        sum(case when call_category = 'complaint' then 1 else 0 end) as complaint_calls,
        sum(case when call_category = 'cancellation' then 1 else 0 end) as cancellation_calls
    from recent_issue_calls
    group by recent_issue_calls.customer_id
),

category_lists as (
    select
        customer_id,
        {{ dbt.listagg('call_category', "', '", 'order by call_category') }} as issue_categories
    from issue_categories
    group by customer_id
),

signals as (
    select
        summary.customer_id,
        summary.as_of_date,
        summary.last_purchase_date,
        summary.as_of_date - summary.last_purchase_date as days_since_last_purchase,
        summary.usual_gap_days,
        predictions.p_alive,
        predictions.predicted_clv_12m,
        coalesce(call_signals.issue_calls, 0) as issue_calls,
        coalesce(call_signals.complaint_calls, 0) as complaint_calls,
        coalesce(call_signals.cancellation_calls, 0) as cancellation_calls,
        category_lists.issue_categories
    from summary
    left join predictions on predictions.customer_id = summary.customer_id
    left join call_signals on call_signals.customer_id = summary.customer_id
    left join category_lists on category_lists.customer_id = summary.customer_id
),

flagged as (
    select
        signals.*,
        lapse_threshold.lapsed_after_days,
        coalesce(
            signals.usual_gap_days > 0
            and signals.days_since_last_purchase
            >= {{ var('churn_overdue_ratio') }} * signals.usual_gap_days,
            false
        ) as is_overdue,
        coalesce(signals.days_since_last_purchase > lapse_threshold.lapsed_after_days, false)
            as is_lapsed
    from signals
    cross join lapse_threshold
),

banded as (
    select
        flagged.*,
        case
            when flagged.p_alive < {{ var('churn_high_p_alive') }} then 'low_p_alive'
            when flagged.cancellation_calls > 0 then 'cancellation_call'
            when flagged.is_lapsed then 'lapsed'
            when flagged.is_overdue and flagged.complaint_calls > 0 then 'overdue_with_complaint'
            when flagged.p_alive < {{ var('churn_medium_p_alive') }} then 'falling_p_alive'
            when flagged.is_overdue then 'overdue'
            when flagged.issue_calls > 0 then 'service_issue_call'
            else 'none'
        end as reason_code
    from flagged
)

select
    banded.customer_id,
    banded.as_of_date,
    banded.last_purchase_date,
    cast(banded.days_since_last_purchase as integer) as days_since_last_purchase,
    {{ round_double('banded.usual_gap_days', 1) }} as usual_gap_days,
    {{ round_double('banded.days_since_last_purchase / nullif(banded.usual_gap_days, 0)', 2) }}
        as overdue_ratio,
    {{ round_double('banded.p_alive', 4) }} as p_alive,
    {{ round_double('banded.lapsed_after_days', 1) }} as lapsed_after_days,
    banded.is_lapsed,
    banded.issue_calls as issue_calls_recent,
    banded.complaint_calls as complaint_calls_recent,
    banded.issue_categories as issue_categories_recent,
    case
        when banded.reason_code in (
                'low_p_alive', 'cancellation_call', 'lapsed',
                'overdue_with_complaint'
            )
            then 'high'
        when banded.reason_code in ('falling_p_alive', 'overdue', 'service_issue_call')
            then 'medium'
        else 'low'
    end as risk_band,
    case banded.reason_code
        when 'low_p_alive' then 'Probably no longer active'
        when 'cancellation_call' then 'Called to cancel'
        when 'lapsed' then 'Silent longer than almost every gap between purchases'
        when 'overdue_with_complaint' then 'Overdue after a complaint'
        when 'falling_p_alive' then 'Activity falling'
        when 'overdue' then 'Overdue against own purchase rhythm'
        when 'service_issue_call' then 'Recent complaint, return or cancellation call'
        else 'No warning sign'
    end as risk_reason,
    case banded.reason_code
        when 'low_p_alive' then '활동 가능성 낮음'
        when 'cancellation_call' then '해지 문의'
        when 'lapsed' then '장기 미구매 (이탈 추정)'
        when 'overdue_with_complaint' then '불만 후 구매 지연'
        when 'falling_p_alive' then '활동 감소'
        when 'overdue' then '평소 구매주기 초과'
        when 'service_issue_call' then '최근 불만·반품·해지 통화'
        else '징후 없음'
    end as risk_reason_ko,
    banded.reason_code as risk_reason_code,
    {{ money('banded.predicted_clv_12m') }} as predicted_clv_12m,
    coalesce(reliability.is_reliable, false) as clv_is_reliable
from banded
left join reliability on true
