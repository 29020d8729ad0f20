/** Every workflow the worker registers. */
export { deploy } from './deploy';
export { redeploy, rollback } from './operations';
export { pipeline } from './pipeline';
export { releaseRecord } from './record';
export { release } from './release';
export { notification } from './notifier';
