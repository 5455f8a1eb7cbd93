/** Fan-out to many hosts: fanOut(), host lists and shards, and the shared ResourceBudget. */
export {
  type BudgetUsage,
  ResourceBudget,
  type ResourceBudgetLimits,
  type ResourceBudgetStats,
} from './budget.ts';
export {
  FANOUT_DEFAULTS,
  type FanOutOptions,
  type FanOutResult,
  type FanOutSummary,
  type FanOutTask,
  fanOut,
  summarize,
} from './fanout.ts';
export {
  type FanOutHost,
  parseHostList,
  parseShard,
  readHostFile,
  type Shard,
  selectShard,
  shardOf,
} from './hosts.ts';
