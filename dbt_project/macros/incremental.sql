{#- The newest raw load an incremental table holds: what its next build reads from. A table with no
    rows yet reads everything. -#}
{% macro newest_load_in_this() -%}
    (select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }})
{%- endmacro %}

{#- Filter for an incremental fact: rows from raw batches newer than the newest already in the
    table, plus (with `reresolved_from`) rows whose customer_id changed since they were written —
    identity merges and callers who became customers — so facts follow identity resolution. -#}
{% macro new_batches_or_reresolved(key, reresolved_from=none) -%}
    where _loaded_at > {{ newest_load_in_this() }}
    {%- if reresolved_from %}
        or {{ key }} in (
            select existing.{{ key }}
            from {{ this }} as existing
            inner join {{ reresolved_from }}
                on {{ reresolved_from }}.{{ key }} = existing.{{ key }}
            where existing.customer_id is distinct from {{ reresolved_from }}.customer_id
        )
    {%- endif %}
{%- endmacro %}

{#- Staging of a source that delivers changes, not snapshots (ERP slips and lines, e-mail
    events, calls, tickets), built incrementally. On an incremental build the `source` CTE keeps
    every raw version of the keys that a batch loaded since the last build touched, so those keys
    are deduplicated and judged again over their whole history and replace their rows
    (delete+insert on the key). Every key is taken again when the rows could differ without a new
    batch: an erasure since the last build (it anonymises raw rows in place), or rules other than
    the ones the rows were staged with (staging_rules_fingerprint), or a table staged before rows
    carried their rules (its columns are synchronised: on_schema_change sync_all_columns). Raw
    rows of these sources are never deleted (an erasure keeps them anonymised), so no staged key
    can lose its raw rows. -#}
{% macro keys_loaded_since_last_build(relation, key) -%}
{%- if is_incremental() %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    {%- if '_staging_rules' not in columns | map('lower') | list %}
    {#- staged before rows carried their rules (an earlier release): every key -#}
    {{ return('') }}
    {%- endif %}
    {%- set last_build = newest_load_in_this() %}
    where {{ key }} in (
        select {{ key }} from {{ relation }}
        where _loaded_at > {{ last_build }}
    )
    or exists (
        select 1 from {{ source('load_log', '_erasure_log') }}
        where finished_at > {{ last_build }}
    )
    or exists (
        select 1 from {{ this }}
        where _staging_rules <> '{{ staging_rules_fingerprint() }}'
    )
{%- endif %}
{%- endmacro %}

{#- What a staged row depends on besides the raw rows: the model's SQL, the project's macros, the
    seeds (contact vocabularies, status tables) and the business settings (dbt vars, e.g. the
    currency's decimals) of the build. A row staged under other rules is staged again. -#}
{% macro staging_rules_fingerprint() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set parts = [model.raw_code, tojson(invocation_args_dict.get('vars') or {})] -%}
    {%- for node in (graph.get('nodes') or {}).values() | sort(attribute='unique_id') -%}
        {%- if node.resource_type == 'seed' -%}
            {%- do parts.append(node.unique_id ~ ':' ~ node.checksum.checksum) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- the project's macros, reached through the context (dbt's graph lists no macros) -#}
    {%- for name in context.keys() | sort -%}
        {%- set found = context[name].macro -%}
        {%- if found is defined and found.package_name == project_name -%}
            {%- do parts.append(found.macro_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}
