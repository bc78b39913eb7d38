/** Chat templates: turning a conversation into the prompt text a model was trained on. */
package io.moestream.engine.chat;
