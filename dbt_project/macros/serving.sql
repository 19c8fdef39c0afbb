{#- Access for BI tools on PostgreSQL: models with meta.serving = bi get select for the role
    env_var('GOGAEK_BI_READER_ROLE', 'bi_reader') through their `grants` config (dbt_project.yml); this on-run-start hook
    creates the role if missing (NOLOGIN: `make postgres-bi-reader` gives it a password), grants
    usage on the schemas holding served models, and takes back anything granted outside them
    (raw, staging, intermediate, snapshots, crm, and unserved tables in a served schema).
    Idempotent: runs before every build. No-op on DuckDB, which has no roles. -#}
{% macro bi_reader_access() %}
{#- graph is empty while dbt parses: render the SQL only when it runs. -#}
{%- if target.type == 'postgres' and execute -%}
{%- set role = env_var('GOGAEK_BI_READER_ROLE', 'bi_reader') -%}
{%- set served_schemas = [] -%}
{%- set other_schemas = [] -%}
{%- set unserved_in_served_schemas = [] -%}
{%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') -%}
    {%- if node.config.meta.get('serving') == 'bi' -%}
        {%- do served_schemas.append(node.schema) -%}
    {%- endif -%}
{%- endfor -%}
{%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') -%}
    {%- if node.config.meta.get('serving') != 'bi' -%}
        {%- if node.schema in served_schemas -%}
            {%- do unserved_in_served_schemas.append(node.schema ~ '.' ~ (node.alias or node.name)) -%}
        {%- else -%}
            {%- do other_schemas.append(node.schema) -%}
        {%- endif -%}
    {%- endif -%}
{%- endfor -%}
{%- for source in graph.sources.values() if source.schema not in served_schemas -%}
    {%- do other_schemas.append(source.schema) -%}
{%- endfor -%}
do $$
begin
    if not exists (select from pg_roles where rolname = '{{ role }}') then
        create role {{ adapter.quote(role) }} nologin;
    end if;
end
$$;
{% for schema in served_schemas | unique | sort %}
create schema if not exists {{ adapter.quote(schema) }};
grant usage on schema {{ adapter.quote(schema) }} to {{ adapter.quote(role) }};
{% endfor %}
do $$
declare
    schema_name text;
    relation text;
begin
    foreach schema_name in array array[{% for schema in other_schemas | unique | sort %}'{{ schema }}'{{ ',' if not loop.last }}{% endfor %}]::text[] loop
        if exists (select from pg_namespace where nspname = schema_name) then
            execute format('revoke all on all tables in schema %I from %I', schema_name, '{{ role }}');
            execute format('revoke all on schema %I from %I', schema_name, '{{ role }}');
        end if;
    end loop;
    foreach relation in array array[{% for relation in unserved_in_served_schemas | unique | sort %}'{{ relation }}'{{ ',' if not loop.last }}{% endfor %}]::text[] loop
        if to_regclass(relation) is not null then
            execute format('revoke all on %s from %I', relation, '{{ role }}');
        end if;
    end loop;
end
$$;
{%- else -%}
select 1
{%- endif -%}
{% endmacro %}

{#- DuckDB has no roles: the grants config meant for PostgreSQL is skipped without the adapter's
    "not supported" warning on every run. -#}
{% macro duckdb__apply_grants(relation, grant_config, should_revoke=True) %}
{% endmacro %}
