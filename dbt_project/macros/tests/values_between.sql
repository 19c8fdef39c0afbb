{#- Column test: values within [min_value, max_value] (nulls pass). Bounds catch a unit price
    typed with extra zeros before it reaches revenue. -#}
{% test values_between(model, column_name, min_value, max_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
