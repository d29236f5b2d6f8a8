DROP TABLE CUPTI_ACTIVITY_KIND_MEMCPY;
INSERT INTO StringIds VALUES (1, 'forward');
INSERT INTO NVTX_EVENTS (start, end, eventType, text, globalTid, textId) VALUES
  (10, 20, 59, NULL, 16777217, 1), (15, 14, 59, 'backwards', 16777217, NULL), (30, NULL, 60, 'open', 2, NULL);
