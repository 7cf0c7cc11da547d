/* Python's queue module as a whole (bounded, LIFO, priority, simple queues, task_done/join,
 * st_queue_fileno) lives in test_ipc_queue.c and runs as a second cmocka group of the test_ipc
 * program, the queue being part of the ipc module. */
#ifndef ST_TESTS_IPC_QUEUE_H
#define ST_TESTS_IPC_QUEUE_H

/** Runs the queue module group; returns the number of failed tests. */
int run_queue_module_tests(void);

#endif
