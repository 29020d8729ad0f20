/** Every workflow the worker registers. */
export { deploy } from './deploy';
