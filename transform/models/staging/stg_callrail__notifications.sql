with notifications as ({{ callrail_rows('notifications') }})

select
    id as notification_id,
    account_id,
    company_id,
    company_name,
    tracker_id,
    tracker_name,
    user_id,
    agent_id,
    agent_name,
    name as notification_name,
    email,
    alert_type,
    call_enabled,
    sms_enabled,
    send_desktop,
    send_email,
    send_push
from notifications
