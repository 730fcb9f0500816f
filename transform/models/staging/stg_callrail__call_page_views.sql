{# Off by default, like the tap stream: build it with --vars '{callrail_fanouts: true}' once the stream is selected. #}
{{ config(enabled=var('callrail_fanouts', false)) }}

with call_page_views as ({{ callrail_rows('call_page_views', key='call_id, position') }})

select
    call_id,
    position,
    account_id,
    {{ utc('call_start_time') }} as call_started_at,
    {{ utc('created_at') }} as viewed_at,
    page_url,
    referrer_url
from call_page_views
