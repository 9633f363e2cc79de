// Starts Swagger UI on /docs. A file rather than an inline script: the page's
// Content-Security-Policy runs no inline code. The page names the OpenAPI URL.
"use strict";

const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // The default posts the spec to validator.swagger.io: nothing leaves this server.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
