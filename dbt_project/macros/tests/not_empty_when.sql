{#- Model-level test: the model has rows whenever `source_relation` has a row matching
    `condition`. A scored mart that comes out empty while its facts are not means a setting
    (the scoring date, a window) leaves nothing to score: stop before publishing. -#}
{% test not_empty_when(model, source_relation, condition='true') %}
select 'the model is empty while ' || '{{ source_relation.identifier }}' || ' has rows' as problem
from (select count(*) as rows_in_source from {{ source_relation }} where {{ condition }}) as facts
where facts.rows_in_source > 0
    and not exists (select 1 from {{ model }})
{% endtest %}
