// GraphiQL's editor (Monaco) runs its language services in web workers. yoga's own page fetches
// them from a CDN into blob: URLs; here they come from the gateway, as same-origin module workers.
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl(_moduleId, label) {
    const workers = {
      editorWorkerService: '/console/vendor/graphiql/editor.worker.js',
      json: '/console/vendor/graphiql/json.worker.js',
      graphql: '/console/vendor/graphiql/graphql.worker.js',
    };
    return workers[label] ?? workers.editorWorkerService;
  },
};
