/**
 * A plugin that is in the pipeline only under a condition, as a value (envelop's `enableIf`), so
 * the ordered list reads as one list without `...(x ? [p] : [])` spreads.
 */
import type { Plugin } from 'graphql-yoga';

export function enableIf(condition: unknown, plugin: Plugin | (() => Plugin)): Plugin {
  if (!condition) return {};
  return typeof plugin === 'function' ? plugin() : plugin;
}
