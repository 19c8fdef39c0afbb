{{ config(meta={'dagster': {'ref': {'name': 'fct_calls'}}}) }}
-- Row-count reconciliation staging → fact for calls and ESP events (after deduplication).
select
    'calls' as fact, (select count(*) from {{ ref('stg_callcenter__calls') }}) as staged,
    (select count(*) from {{ ref('fct_calls') }}) as loaded
where (select count(*) from {{ ref('stg_callcenter__calls') }})
    <> (select count(*) from {{ ref('fct_calls') }})
union all
select
    'email_events' as fact, (select count(*) from {{ ref('stg_esp__events') }}) as staged,
    (select count(*) from {{ ref('fct_email_events') }}) as loaded
where (select count(*) from {{ ref('stg_esp__events') }})
    <> (select count(*) from {{ ref('fct_email_events') }})
