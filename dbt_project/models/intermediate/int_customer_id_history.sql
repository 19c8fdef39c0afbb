{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail'
) }}
{#- The memory of issued customer ids: never rebuilt, not even by `dbt build --full-refresh`
    (full_refresh=false), since ids that left the warehouse must keep resolving. Each run appends
    a row for every customer record whose customer id is new or changed. -#}
{%- set run_at = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as "
    ~ dbt.type_timestamp() ~ ")" -%}

with record_groups as (
    select * from {{ ref('int_customer_components') }}
),

links as (
    select * from {{ ref('int_customer_links') }}
),

decisions as (
    select * from {{ ref('int_identity_overrides') }}
),

match_rules as (
    select * from {{ ref('identity_match_rules') }}
),

{% if is_incremental() %}
history_latest_first as (
    select
        record_id,
        customer_id,
        row_number() over (partition by record_id order by assigned_at desc) as recency
    from {{ this }}
),

previous as (
    select record_id, customer_id from history_latest_first where recency = 1
),

issued as (
    select customer_id, min(assigned_at) as issued_at
    from {{ this }}
    group by customer_id
),
{% else %}
previous as (
    select
        cast(null as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    where 1 = 0
),

issued as (
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_timestamp() }}) as issued_at
    where 1 = 0
),
{% endif %}

-- Each id held last run, claimed by the groups its records are in now.
claims as (
    select
        previous.customer_id as previous_customer_id,
        record_groups.group_anchor_record_id,
        record_groups.anchor_rank
    from record_groups
    inner join previous on previous.record_id = record_groups.record_id
),

claims_heir_first as (
    select
        claims.*,
        row_number() over (partition by previous_customer_id order by anchor_rank) as heir_order
    from claims
),

heirs as (
    select previous_customer_id, group_anchor_record_id, anchor_rank as heir_rank
    from claims_heir_first
    where heir_order = 1
),

inherited_first_issued_first as (
    select
        heirs.group_anchor_record_id,
        heirs.previous_customer_id,
        row_number() over (
            partition by heirs.group_anchor_record_id
            order by issued.issued_at, heirs.heir_rank
        ) as survivor_order
    from heirs
    left join issued on issued.customer_id = heirs.previous_customer_id
),

survivors as (
    select group_anchor_record_id, previous_customer_id as customer_id
    from inherited_first_issued_first
    where survivor_order = 1
),

assigned as (
    select
        record_groups.record_id,
        record_groups.group_anchor_record_id,
        record_groups.is_split_by_decision,
        record_groups.match_rule,
        previous.customer_id as previous_customer_id,
        case
            when survivors.customer_id is not null then survivors.customer_id
            -- rare: the id named after the record went on with another group (it joined a
            -- customer seen before it); a new id, named after the record and this run
            when {{ customer_id_from('record_groups.group_anchor_record_id') }} in (
                    select taken.customer_id from survivors as taken
                ) then {{ customer_id_from("record_groups.group_anchor_record_id || '@" ~ invocation_id
                ~ "'") }}
            else {{ customer_id_from('record_groups.group_anchor_record_id') }}
        end as customer_id,
        case
            when previous.customer_id is null then 'issued'
            when heirs.group_anchor_record_id = record_groups.group_anchor_record_id then 'merged'
            else 'split'
        end as change
    from record_groups
    left join previous on previous.record_id = record_groups.record_id
    left join survivors on survivors.group_anchor_record_id = record_groups.group_anchor_record_id
    left join heirs on heirs.previous_customer_id = previous.customer_id
),

changed as (
    select * from assigned
    where previous_customer_id is null or previous_customer_id <> customer_id
),

-- A merge's rule: the strongest key tying the retired customer's records to the other
-- records of the survivor (manual_same when staff decided it).
merge_links as (
    select
        retired_side.group_anchor_record_id,
        retired_side.previous_customer_id,
        min(match_rules.strength) as rule_strength
    from changed as retired_side
    inner join links as retired_links on retired_links.record_id = retired_side.record_id
    inner join links as other_links
        on other_links.match_key = retired_links.match_key
            and other_links.record_id <> retired_links.record_id
    inner join assigned as other_side
        on other_side.record_id = other_links.record_id
            and other_side.group_anchor_record_id = retired_side.group_anchor_record_id
            and other_side.previous_customer_id is distinct from retired_side.previous_customer_id
    inner join match_rules on match_rules.match_rule = retired_links.match_rule
    where retired_side.change = 'merged'
    group by retired_side.group_anchor_record_id, retired_side.previous_customer_id
),

merge_rules as (
    select
        merge_links.group_anchor_record_id,
        merge_links.previous_customer_id,
        match_rules.match_rule
    from merge_links
    inner join match_rules on match_rules.strength = merge_links.rule_strength
),

-- The staff decision behind a change: for a merge by manual_same, the "same" decision between
-- a record of the retired customer and one of the survivor; for a split, the "different"
-- decision between a record of the part split off and one of the part that kept the id.
decision_sides as (
    select
        decisions.*,
        side_a.group_anchor_record_id as group_a,
        side_a.previous_customer_id as previous_a,
        side_b.group_anchor_record_id as group_b,
        side_b.previous_customer_id as previous_b
    from decisions
    inner join assigned as side_a on side_a.record_id = decisions.record_id_a
    inner join assigned as side_b on side_b.record_id = decisions.record_id_b
),

change_decisions as (
    select
        changed.record_id,
        decision_sides.decided_by,
        decision_sides.reason,
        row_number() over (
            partition by changed.record_id order by decision_sides.decided_on desc
        ) as recency
    from changed
    inner join heirs on heirs.previous_customer_id = changed.previous_customer_id
    inner join decision_sides
        on (
            changed.change = 'split'
            and decision_sides.decision = 'different'
            and (
                (
                    decision_sides.group_a = changed.group_anchor_record_id
                    and decision_sides.group_b = heirs.group_anchor_record_id
                )
                or (
                    decision_sides.group_b = changed.group_anchor_record_id
                    and decision_sides.group_a = heirs.group_anchor_record_id
                )
            )
        )
        or (
            changed.change = 'merged'
            and decision_sides.decision = 'same'
            and decision_sides.group_a = changed.group_anchor_record_id
            and decision_sides.group_b = changed.group_anchor_record_id
            -- one record held the retired id, the other did not
            and (coalesce(decision_sides.previous_a, '') = changed.previous_customer_id)
            <> (coalesce(decision_sides.previous_b, '') = changed.previous_customer_id)
        )
)

select
    changed.record_id,
    changed.customer_id,
    changed.previous_customer_id,
    changed.change,
    case
        when changed.change = 'issued' then changed.match_rule
        when changed.change = 'merged' then merge_rules.match_rule
        when changed.is_split_by_decision then 'manual_different'
        -- a record was corrected and the key that tied it to the others is gone
        else 'link_lost'
    end as match_rule,
    change_decisions.decided_by,
    change_decisions.reason as decision_reason,
    '{{ invocation_id }}' as run_id,
    {{ run_at }} as assigned_at
from changed
left join merge_rules
    on merge_rules.group_anchor_record_id = changed.group_anchor_record_id
        and merge_rules.previous_customer_id = changed.previous_customer_id
left join change_decisions
    on change_decisions.record_id = changed.record_id
        and change_decisions.recency = 1
