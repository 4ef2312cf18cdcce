-- The pending-commands read of every DM message also takes the commands a device accepted for
-- later (an Exec answered 202, waiting for its Generic Alert). With status in an index, that walk
-- reads only those rows instead of the device's whole history of done commands. It takes the
-- place of commands_device (device_id, id), whose one reader (a device's whole command list, for
-- the API) sorts instead: the index count per write stays the same.
CREATE INDEX commands_device_state_status ON commands (device_id, state, status, id);
DROP INDEX commands_device;
