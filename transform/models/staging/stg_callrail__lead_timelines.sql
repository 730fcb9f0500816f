{# Off by default, like the tap stream: build it with --vars '{callrail_fanouts: true}' once the stream is selected. #}
{{ config(enabled=var('callrail_fanouts', false)) }}

with lead_timelines as ({{ callrail_rows('lead_timelines', key='person_id, event_key') }})

select
    person_id as lead_id,
    event_key,
    account_id,
    type as event_type,
    id as event_record_id,
    {{ utc('event_date') }} as event_at,
    details
from lead_timelines
