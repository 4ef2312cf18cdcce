-- commands_device_state (device_id, state, id) is a prefix of commands_device_state_status
-- (device_id, state, status, id), which answers every read it served (a device's commands in a
-- state, its whole list, the cascade from devices). Every change of a command's state moved an
-- entry in both; one index less is one B-tree change less per command per DM message (issue 7).
DROP INDEX commands_device_state;
