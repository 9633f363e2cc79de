"""The one prompt renderer (mustache and sandboxed Jinja2, strict, within a budget).

Entry points: `render_prompt`, `render_template`, `content_variables`, `PromptContent`; the
server, evals, the gateway and the client all render through it.
"""

from promptlane_client.render.budget import DEFAULT_BUDGET, RenderBudget
from promptlane_client.render.content import (
    TEMPLATE_FORMATS,
    Message,
    PromptContent,
    Rendered,
    TemplateFormat,
    messages_from_dicts,
)
from promptlane_client.render.renderer import (
    check_variables_schema,
    content_variables,
    is_linear,
    render_prompt,
    render_template,
    required_variables,
    template_variables,
    validate_variables,
)

__all__ = [
    "DEFAULT_BUDGET",
    "TEMPLATE_FORMATS",
    "Message",
    "PromptContent",
    "RenderBudget",
    "Rendered",
    "TemplateFormat",
    "check_variables_schema",
    "content_variables",
    "is_linear",
    "messages_from_dicts",
    "render_prompt",
    "render_template",
    "required_variables",
    "template_variables",
    "validate_variables",
]
