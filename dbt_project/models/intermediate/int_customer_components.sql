{#- Connected components of the record–key graph by min-label propagation: each round a key
    takes the smallest label of its records and each record the smallest label of its keys.
    `identity_max_rounds` rounds cover any component whose records are at most that many hops
    apart; the singular test assert_identity_converged fails if a component needed more.
    A component holding two records staff decided are different people is then split: each
    such record heads a part, and every other record joins the one it is fewest links away
    from (ties: the one seen first) — a second propagation whose label is
    hops × `hop` + the heading record's anchor rank, so the smallest label is the nearest. -#}
{%- set rounds = var('identity_max_rounds', 8) -%}
{%- set hop = 1000000000 -%}

with records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

links as (
    select * from {{ ref('int_customer_links') }}
),

different_people_decisions as (
    select * from {{ ref('int_identity_overrides') }}
    where decision = 'different'
),

match_rules as (
    select * from {{ ref('identity_match_rules') }}
),

labels_0 as (
    select record_id, anchor_rank as label
    from records
),
{% for round in range(1, rounds + 1) %}
key_labels_{{ round }} as (
    select links.match_key, min(labels_{{ round - 1 }}.label) as label
    from links
    inner join labels_{{ round - 1 }} on labels_{{ round - 1 }}.record_id = links.record_id
    group by links.match_key
),

labels_{{ round }} as (
    select
        labels_{{ round - 1 }}.record_id,
        min(coalesce(key_labels_{{ round }}.label, labels_{{ round - 1 }}.label)) as label
    from labels_{{ round - 1 }}
    left join links on links.record_id = labels_{{ round - 1 }}.record_id
    left join key_labels_{{ round }} on key_labels_{{ round }}.match_key = links.match_key
    group by labels_{{ round - 1 }}.record_id
),
{% endfor %}

components as (
    select record_id, label as component_rank
    from labels_{{ rounds }}
),

-- "Different people" decisions whose two records the keys put in one component.
separations as (
    select
        different_people_decisions.record_id_a,
        different_people_decisions.record_id_b,
        component_a.component_rank
    from different_people_decisions
    inner join components as component_a
        on component_a.record_id = different_people_decisions.record_id_a
    inner join components as component_b
        on component_b.record_id = different_people_decisions.record_id_b
    where component_a.component_rank = component_b.component_rank
),

separated_records as (
    select record_id_a as record_id from separations
    union
    select record_id_b as record_id from separations
),

split_components as (
    select distinct component_rank from separations
),

split_records as (
    select
        components.record_id,
        case when separated_records.record_id is not null then records.anchor_rank end as label
    from components
    inner join split_components on split_components.component_rank = components.component_rank
    inner join records on records.record_id = components.record_id
    left join separated_records on separated_records.record_id = components.record_id
),

split_links as (
    select links.*
    from links
    inner join split_records on split_records.record_id = links.record_id
),

part_labels_0 as (
    select record_id, label from split_records
),
{% for round in range(1, rounds + 1) %}
part_key_labels_{{ round }} as (
    select split_links.match_key, min(part_labels_{{ round - 1 }}.label) as label
    from split_links
    inner join part_labels_{{ round - 1 }}
        on part_labels_{{ round - 1 }}.record_id = split_links.record_id
    group by split_links.match_key
),

part_labels_{{ round }} as (
    select record_id, min(label) as label
    from (
        select record_id, label from part_labels_{{ round - 1 }}
        union all
        select split_links.record_id, part_key_labels_{{ round }}.label + {{ hop }} as label
        from split_links
        inner join part_key_labels_{{ round }}
            on part_key_labels_{{ round }}.match_key = split_links.match_key
    ) as candidate_labels
    group by record_id
),
{% endfor %}

-- The group of each record: its component, or in a split component the part it joined (both
-- named by a record's anchor rank, so the two never collide).
grouped as (
    select
        components.record_id,
        components.component_rank,
        coalesce(mod(part_labels_{{ rounds }}.label, {{ hop }}), components.component_rank)
            as group_label,
        part_labels_{{ rounds }}.record_id is not null as is_split_by_decision
    from components
    left join part_labels_{{ rounds }}
        on part_labels_{{ rounds }}.record_id = components.record_id
),

group_anchors as (
    select grouped.group_label, min(records.anchor_rank) as group_anchor_rank
    from grouped
    inner join records on records.record_id = grouped.record_id
    group by grouped.group_label
),

-- The strongest rule that ties a record to another record of its group: its strongest key
-- that another record of the group shares.
shared_keys as (
    select grouped.group_label, links.match_key
    from links
    inner join grouped on grouped.record_id = links.record_id
    group by grouped.group_label, links.match_key
    having count(*) > 1
),

linking_rules as (
    select
        links.record_id,
        min(match_rules.strength) as rule_strength
    from links
    inner join grouped on grouped.record_id = links.record_id
    inner join shared_keys
        on shared_keys.match_key = links.match_key
            and shared_keys.group_label = grouped.group_label
    inner join match_rules on match_rules.match_rule = links.match_rule
    group by links.record_id
),

record_rules as (
    select
        linking_rules.record_id,
        match_rules.match_rule
    from linking_rules
    inner join match_rules on match_rules.strength = linking_rules.rule_strength
)

select
    records.record_id,
    records.source,
    records.source_key,
    records.anchor_rank,
    grouped.component_rank,
    group_anchors.group_anchor_rank,
    group_anchor_records.record_id as group_anchor_record_id,
    grouped.is_split_by_decision,
    coalesce(record_rules.match_rule, 'single_record') as match_rule,
    match_rules.confidence as match_confidence
from records
inner join grouped on grouped.record_id = records.record_id
inner join group_anchors on group_anchors.group_label = grouped.group_label
inner join records as group_anchor_records
    on group_anchor_records.anchor_rank = group_anchors.group_anchor_rank
left join record_rules on record_rules.record_id = records.record_id
inner join match_rules
    on match_rules.match_rule = coalesce(record_rules.match_rule, 'single_record')
