// Starts GraphiQL with the options yoga rendered into the page (a data attribute: no inline script).
const root = document.getElementById('root');
const options = JSON.parse(root.dataset.options || '{}');
YogaGraphiQL.renderYogaGraphiQL(root, options);
