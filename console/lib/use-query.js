// Runs a GraphQL read when a view mounts or its inputs change; the view renders loading, error or data.
import { graphql } from './api.js';
import { useEffect, useState, useCallback } from './html.js';

export function useQuery(query, variables, { purpose, skip = false } = {}) {
  const key = JSON.stringify([query, variables, purpose, skip]);
  const [state, setState] = useState({ loading: !skip, error: null, data: null });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (skip) {
      setState({ loading: false, error: null, data: null });
      return;
    }
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    graphql(query, variables, { purpose }).then(
      (data) => live && setState({ loading: false, error: null, data }),
      (error) => live && setState({ loading: false, error, data: null }),
    );
    return () => {
      live = false;
    };
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
